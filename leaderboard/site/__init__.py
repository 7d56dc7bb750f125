"""The static site: the public snapshot as plain HTML, inline SVG and data files (`mmwatch export-site`).

build: what is written where; content: what is read, and the site's own redaction; pages and
model_page: the pages; samples: a model's item list; charts and svg: the pictures; html: escaping;
folder: which output folders may be used.
"""

from leaderboard.site.build import SiteError, SiteReport, build_site
from leaderboard.site.content import SiteOptions, file_stem, shows_response
from leaderboard.site.folder import FolderError, FolderKind, check, claim, read_manifest

__all__ = ["FolderError", "FolderKind", "SiteError", "SiteOptions", "SiteReport", "build_site", "check", "claim",
           "file_stem", "read_manifest", "shows_response"]
