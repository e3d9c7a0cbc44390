#include "inspect/classifier_eval.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <string_view>

namespace ztgate::inspect {
namespace {

namespace json = boost::json;

Error parse_error(size_t line, const std::string& why) {
  return make_error("parse_error", "line " + std::to_string(line) + ": " + why,
                    SourceLoc{static_cast<int>(std::min<size_t>(line, 1u << 30)), 1});
}

const json::string* string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? nullptr : v->if_string();
}

Result<DatasetRow> parse_row(std::string_view line, size_t line_no, const DatasetLimits& limits) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec) return parse_error(line_no, "not JSON: " + ec.message());
  const json::object* o = v.if_object();
  if (o == nullptr) return parse_error(line_no, "not a JSON object");
  DatasetRow row;
  const json::string* text = string_field(*o, "text");
  if (text == nullptr) return parse_error(line_no, "\"text\" missing or not a string");
  if (text->size() > limits.max_text_bytes)
    return make_error("too_large", "line " + std::to_string(line_no) + ": text too long");
  row.text.assign(text->data(), text->size());
  const json::value* label = o->if_contains("label");
  if (label == nullptr || !label->is_int64() ||
      (label->as_int64() != 0 && label->as_int64() != 1)) {
    return parse_error(line_no, "\"label\" must be 0 or 1");
  }
  row.injection = label->as_int64() == 1;
  if (const json::string* k = string_field(*o, "kind")) row.kind.assign(k->data(), k->size());
  if (const json::string* s = string_field(*o, "source")) row.source.assign(s->data(), s->size());
  if (const json::value* c = o->if_contains("channel")) {
    const json::string* name = c->if_string();
    std::optional<Channel> ch =
        name ? parse_channel(std::string_view(name->data(), name->size())) : std::nullopt;
    if (!ch) return parse_error(line_no, "unknown \"channel\"");
    row.channel = *ch;
    row.channel_given = true;
  } else {
    row.channel = proxy_channel(row.kind, row.source, row.text);
  }
  if (row.kind.empty()) row.kind = row.injection ? "attack" : "benign";
  return row;
}

double rate(size_t num, size_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

std::string fmt(const char* format, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, x);
  return buf;
}

}  // namespace

Result<std::vector<DatasetRow>> read_dataset(const std::string& path, const DatasetLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("io_error", "cannot open " + path);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) return make_error("io_error", "cannot read " + path);
  if (static_cast<uint64_t>(size) > limits.max_file_bytes)
    return make_error("too_large", path + " is too large");
  in.seekg(0);
  std::vector<DatasetRow> rows;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (rows.size() >= limits.max_rows) return make_error("too_large", path + " has too many rows");
    Result<DatasetRow> row = parse_row(line, line_no, limits);
    if (!row) return row.error();
    rows.push_back(std::move(row.value()));
  }
  if (in.bad()) return make_error("io_error", "cannot read " + path);
  return rows;
}

Channel proxy_channel(const std::string& kind, const std::string& source, const std::string& text) {
  const bool agentdojo = source == "ethz-spylab/agentdojo";
  // garak's latent-injection rows are whole prompts: an instruction with the
  // (clean or injected) document inside it, sent as the user's turn.
  if (kind == "direct" || kind == "jailbreak" || source == "NVIDIA/garak")
    return Channel::user_prompt;
  if (kind == "indirect") return agentdojo ? Channel::tool_output : Channel::retrieved_doc;
  if (kind == "benign") {
    if (agentdojo) return Channel::tool_output;
    if (source == "microsoft/BIPIA") return Channel::retrieved_doc;
  }
  if (source == "teknium1/GPTeacher" && text.rfind("toolformer:", 0) == 0)
    return Channel::tool_description;
  return Channel::user_prompt;
}

std::optional<double> roc_auc(const std::vector<float>& positives,
                              const std::vector<float>& negatives) {
  if (positives.empty() || negatives.empty()) return std::nullopt;
  std::vector<float> neg = negatives;
  std::sort(neg.begin(), neg.end());
  double wins = 0;
  for (float p : positives) {
    const auto lo = std::lower_bound(neg.begin(), neg.end(), p);
    const auto hi = std::upper_bound(lo, neg.end(), p);
    wins += static_cast<double>(lo - neg.begin()) + 0.5 * static_cast<double>(hi - lo);
  }
  return wins / (static_cast<double>(positives.size()) * static_cast<double>(neg.size()));
}

OperatingPoint best_tpr_at_fpr(const std::vector<float>& positives,
                               const std::vector<float>& negatives, double max_fpr) {
  OperatingPoint best;
  best.threshold = INFINITY;
  if (positives.empty()) return best;
  std::vector<float> neg = negatives, pos = positives;
  std::sort(neg.begin(), neg.end(), std::greater<>());
  std::sort(pos.begin(), pos.end());
  // Flag logit >= t: the lowest t keeping FPR within budget is just above the
  // (allowed+1)-th highest negative.
  const auto allowed =
      static_cast<size_t>(std::floor(max_fpr * static_cast<double>(neg.size()) + 1e-9));
  float t = -INFINITY;
  if (allowed < neg.size()) t = std::nextafter(neg[allowed], INFINITY);
  const auto flagged_pos =
      static_cast<size_t>(pos.end() - std::lower_bound(pos.begin(), pos.end(), t));
  const auto flagged_neg = static_cast<size_t>(
      std::upper_bound(neg.begin(), neg.end(), t, std::greater<>()) - neg.begin());
  // upper_bound with greater<> counts negatives >= t.
  best.threshold = t;
  best.tpr = rate(flagged_pos, pos.size());
  best.fpr = rate(flagged_neg, neg.size());
  return best;
}

EvalReport evaluate(const std::vector<ScoredRow>& rows) {
  EvalReport r;
  r.rows = rows.size();
  std::vector<float> all_pos, all_neg;
  for (const ScoredRow& s : rows) (s.injection ? all_pos : all_neg).push_back(s.logit);

  auto tally = [](GroupMetrics& g, const ScoredRow& s) {
    if (s.injection) {
      ++g.positives;
      ++(s.flagged ? g.at_threshold.tp : g.at_threshold.fn);
    } else {
      ++g.negatives;
      ++(s.flagged ? g.at_threshold.fp : g.at_threshold.tn);
    }
  };
  r.overall.name = "all";
  std::map<std::string, size_t> kind_index;
  std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> kind_scores;
  std::array<GroupMetrics, kChannelCount> channels{};
  std::array<std::pair<std::vector<float>, std::vector<float>>, kChannelCount> channel_scores;
  for (const ScoredRow& s : rows) {
    tally(r.overall, s);
    auto [it, added] = kind_index.try_emplace(s.kind, r.by_kind.size());
    if (added) {
      r.by_kind.push_back(GroupMetrics{});
      r.by_kind.back().name = s.kind;
    }
    tally(r.by_kind[it->second], s);
    auto& ks = kind_scores[s.kind];
    (s.injection ? ks.first : ks.second).push_back(s.logit);
    const auto c = static_cast<size_t>(s.channel);
    tally(channels[c], s);
    (s.injection ? channel_scores[c].first : channel_scores[c].second).push_back(s.logit);
  }
  r.overall.auc = roc_auc(all_pos, all_neg);
  r.at_1pct = best_tpr_at_fpr(all_pos, all_neg, 0.01);
  for (GroupMetrics& g : r.by_kind) {
    auto& ks = kind_scores[g.name];
    const bool positive_kind = g.positives > 0 && g.negatives == 0;
    g.auc = positive_kind      ? roc_auc(ks.first, all_neg)
            : g.positives == 0 ? roc_auc(all_pos, ks.second)
                               : roc_auc(ks.first, ks.second);
    // Rate at the channel-blind 1% FPR threshold.
    size_t flagged = 0;
    for (float x : ks.first) flagged += x >= r.at_1pct.threshold;
    for (float x : ks.second) flagged += x >= r.at_1pct.threshold;
    r.kind_rate_at_1pct.emplace_back(g.name, rate(flagged, g.positives + g.negatives));
  }
  for (Channel c : kAllChannels) {
    GroupMetrics g = channels[static_cast<size_t>(c)];
    if (g.positives + g.negatives == 0) continue;
    g.name = std::string(channel_name(c));
    g.auc = roc_auc(channel_scores[static_cast<size_t>(c)].first,
                    channel_scores[static_cast<size_t>(c)].second);
    r.by_channel.push_back(std::move(g));
  }
  return r;
}

std::string format_report(const EvalReport& r) {
  std::string out;
  auto line = [&](const GroupMetrics& g) {
    const Confusion& c = g.at_threshold;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%-18s %6zu %6zu %6zu %6zu %6zu %6zu  %7s %7s %9s %7s\n",
                  g.name.c_str(), g.positives, g.negatives, c.tp, c.fn, c.fp, c.tn,
                  g.positives ? fmt("%.4f", rate(c.tp, g.positives)).c_str() : "-",
                  g.negatives ? fmt("%.4f", rate(c.fp, g.negatives)).c_str() : "-",
                  c.tp + c.fp ? fmt("%.4f", rate(c.tp, c.tp + c.fp)).c_str() : "-",
                  g.auc ? fmt("%.4f", *g.auc).c_str() : "-");
    out += buf;
  };
  const char* header = "%-18s %6s %6s %6s %6s %6s %6s  %7s %7s %9s %7s\n";
  char buf[256];
  out += "rows: " + std::to_string(r.rows) + "\n\n";
  out += "At the model's channel thresholds (confusion matrix TP FN FP TN):\n";
  std::snprintf(buf, sizeof buf, header, "group", "pos", "neg", "TP", "FN", "FP", "TN", "TPR",
                "FPR", "precision", "ROC AUC");
  out += buf;
  line(r.overall);
  out +=
      "by kind (AUC: a positive kind against all negatives, a negative kind against all "
      "positives)\n";
  for (const GroupMetrics& g : r.by_kind) line(g);
  out += "by channel\n";
  for (const GroupMetrics& g : r.by_channel) line(g);
  std::snprintf(buf, sizeof buf,
                "\nChannel-blind, best threshold with FPR <= 1%% on all negatives: logit >= %.4f\n",
                static_cast<double>(r.at_1pct.threshold));
  out += buf;
  std::snprintf(buf, sizeof buf, "  TPR %.4f  FPR %.4f\n", r.at_1pct.tpr, r.at_1pct.fpr);
  out += buf;
  for (const auto& [kind, rate_at] : r.kind_rate_at_1pct) {
    std::snprintf(buf, sizeof buf, "  %-16s flagged %.4f\n", kind.c_str(), rate_at);
    out += buf;
  }
  return out;
}

}  // namespace ztgate::inspect
