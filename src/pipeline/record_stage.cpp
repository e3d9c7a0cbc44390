#include "pipeline/snapshot.h"
#include "pipeline/stages.h"

namespace ztgate::pipeline {
namespace {

class RecordStage final : public Stage {
 public:
  explicit RecordStage(AuditLog& log) : log_(log) {}
  const char* name() const override { return "record"; }

  void on_complete(Exchange& x) override {
    uint64_t version = x.snapshot ? x.snapshot->version : 0;
    log_.write(audit_record(x, version));
  }

 private:
  AuditLog& log_;
};

}  // namespace

std::unique_ptr<Stage> make_record_stage(AuditLog& log) { return std::make_unique<RecordStage>(log); }

std::vector<std::unique_ptr<Stage>> standard_stages(DecisionCache& cache, MetricsRegistry& metrics, AuditLog& log) {
  std::vector<std::unique_ptr<Stage>> stages;
  stages.push_back(make_authenticate_stage());
  stages.push_back(make_enrich_stage());
  stages.push_back(make_authorize_stage(cache));
  stages.push_back(make_enforce_stage(metrics));
  stages.push_back(make_output_meter_stage());
  stages.push_back(make_record_stage(log));
  return stages;
}

}  // namespace ztgate::pipeline
