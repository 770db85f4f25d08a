// Bindings of the synthetic firm network (datasets.hpp). generate() and
// china_synthetic() are bound in bind_io.cpp.
#include "common.hpp"
#include "mriotrace/datasets.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace mriotrace::py {

void bind_datasets(nb::module_& m) {
  const datasets::FirmNetworkOptions defaults;  // keep the Python defaults in sync with C++
  m.def(
      "firm_network",
      [](Index firms, Index links, Index regions, double exponent, double domestic_link_share, Index fd_categories,
         Index stressors, std::uint64_t seed, int threads) {
        datasets::FirmNetworkOptions o;
        o.firms = firms;
        o.links = links;
        o.regions = regions;
        o.exponent = exponent;
        o.domestic_link_share = domestic_link_share;
        o.fd_categories = fd_categories;
        o.stressors = stressors;
        o.seed = seed;
        o.threads = threads;
        nb::gil_scoped_release release;
        return datasets::firm_network(o);
      },
      "firms"_a = defaults.firms, "links"_a = defaults.links, "regions"_a = defaults.regions,
      "exponent"_a = defaults.exponent, "domestic_link_share"_a = defaults.domestic_link_share,
      "fd_categories"_a = defaults.fd_categories, "stressors"_a = defaults.stressors, "seed"_a = defaults.seed,
      "threads"_a = defaults.threads,
      "A synthetic firm-level supply network with power-law degrees (deterministic for a seed).");
}

}  // namespace mriotrace::py
