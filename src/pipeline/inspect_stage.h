// Content inspection in the pipeline (docs/DETECTION.md, POLICY_GUIDE
// "Content"): the texts an exchange carries are scored for prompt injection
// per channel by the snapshot's detector, and the verdicts become
//
//   context.content.injection = {
//     user_prompt:      {score, flagged, rule_score, model_score, categories, rule_ids, hidden_text},
//     retrieved_doc:    {...}, tool_output: {...}, tool_description: {...},
//     max_score, flagged }
//
// (every channel present, zeros where nothing was seen; several texts on a
// channel: the highest score, the union of categories and rule ids), so
// that policy decides what happens. Each text with a finding adds an entry
// to x.findings for the record: channel, source, scores, rule ids,
// categories, input spans; never the text. With inspection.dlp on, the
// same texts are scanned for secrets and personal data:
//
//   context.content.dlp = { categories, kinds, count }
//
// and each finding is recorded (kind "dlp", stage "input": kind, category,
// span, rule id). With inspection off (inspection.enabled: false)
// context.content is absent.
#pragma once

#include <vector>

#include "inspect/spotlight.h"
#include "pipeline/exchange.h"
#include "pipeline/pipeline.h"

namespace ztgate::pipeline {

// Inspects `texts` into x.context.content and x.findings, merging with what
// earlier calls put there. False with x.ending set when a text cannot be
// inspected (fail closed): 413 inspection_too_large beyond
// inspection.max_text_bytes / max_texts, 500 inspection_failed.
bool inspect_texts(Exchange& x, const std::vector<InspectText>& texts);

// The mode an allow's @spotlight asks for ("" = inspection.spotlight).
inspect::SpotlightMode spotlight_mode(const Exchange& x);

// The inspect_input stage: inspect_texts(x, x.inspect_texts), before authorize.
std::unique_ptr<Stage> make_inspect_input_stage();

}  // namespace ztgate::pipeline
