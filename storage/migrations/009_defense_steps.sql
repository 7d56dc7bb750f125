-- 009: what a defense did before the final answer (self-moderation's drafts, the text an OCR filter
-- read, an answer a guard replaced): a JSON list of {defense, kind, text}; NULL when nothing.
ALTER TABLE cells ADD COLUMN defense_steps JSON;
