// The Cedar library uses ztgate's shared errors-as-values types.
#pragma once

#include "common/result.h"

namespace ztgate::cedar {
using ztgate::Error;
using ztgate::make_error;
using ztgate::Ok;
using ztgate::Result;
using ztgate::SourceLoc;
using ztgate::Status;
}  // namespace ztgate::cedar
