// The real demo system: the file datasets/china_national/china_2018_153.h5
// (derived by datasets/china_national/build.py), embedded at build time
// (datasets/CMakeLists.txt) and read from memory.
#include <cstddef>

#include "mriotrace/datasets.hpp"
#include "mriotrace/error.hpp"
#include "mriotrace/io/hdf5.hpp"

namespace mriotrace::datasets {
namespace detail {
extern const unsigned char kChinaDemoImage[];
extern const std::size_t kChinaDemoImageSize;
}  // namespace detail

MrioSystem china_demo() {
  if (detail::kChinaDemoImageSize == 0)
    throw FileError(
        "this build of mriotrace has no demo system: datasets/china_national/china_2018_153.h5 was missing at "
        "build time (run datasets/china_national/build.py, then rebuild)");
  return io::load_system_image(detail::kChinaDemoImage, detail::kChinaDemoImageSize,
                               "embedded datasets/china_national/china_2018_153.h5");
}

}  // namespace mriotrace::datasets
