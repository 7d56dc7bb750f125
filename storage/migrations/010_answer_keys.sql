-- 010: how a utility item is scored beyond its one reference string (mmwatch.types.AnswerKey: the
-- answer format, VQA's ten human answers, the options of a multiple-choice item as shown, the group
-- scored together), as JSON; NULL for items scored by exact match (and every older sample). Stored
-- answers are re-judged from it later, so it must survive the store.
ALTER TABLE samples ADD COLUMN answer_key JSON;
