-- 011: the `none` attack's probes of a benchmark's own image-question pair (MM-SafetyBench) recorded
-- the sample's original question under "question", the key indirect-injection uses for its own
-- question; they now record it under "original_request" (mmwatch/judges/llm.py ORIGINAL_REQUEST_PARAM).
-- Stored cells are renamed in place, so a judge re-scoring them is still shown what was asked. The
-- cell keys do not change (probe params are not part of them).
UPDATE cells
SET probe_params = json_merge_patch(probe_params,
                                    json_object('original_request', probe_params->'question', 'question', NULL))
WHERE attack = 'none' AND json_exists(probe_params, '$.question');
