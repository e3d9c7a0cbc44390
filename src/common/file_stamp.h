// What a loaded file was: its path, size and modification time, as one line.
// Loaders key what they built on the stamps of its inputs, so a reload with
// unchanged files reuses the last result (compiling a rule pack takes
// seconds). A missing file stamps as size 0, time 0.
#pragma once

#include <filesystem>
#include <string>

namespace ztgate {

inline std::string file_stamp(const std::filesystem::path& p) {
  std::error_code ec;
  auto size = std::filesystem::file_size(p, ec);
  auto time = std::filesystem::last_write_time(p, ec);
  return p.string() + ' ' + std::to_string(ec ? 0 : size) + ' ' +
         std::to_string(ec ? 0 : time.time_since_epoch().count());
}

// The stamps of every entry of `dir`, one per line, in directory order.
inline std::string dir_stamps(const std::filesystem::path& dir) {
  std::string out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    out += '\n' + file_stamp(it->path());
  return out;
}

}  // namespace ztgate
