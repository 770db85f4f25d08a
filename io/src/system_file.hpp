// Pieces of the system/results file format (hdf5.cpp) that other files of
// the same format reuse: the SPA path file (path_writer.cpp) is a results
// file with the labels and a /tracing/spa group (private to mriotrace_io).
#pragma once

#include "mriotrace/io/h5.hpp"
#include "mriotrace/system.hpp"

namespace mriotrace::io {

/// Root format of system and results files ("mriotrace", kFormatVersion).
const h5::Format& system_format();
/// /system and /system/labels with `labels`.
void write_labels_group(const h5::Writer& w, const Labels& labels);
/// /system/labels, each checked.
Labels read_labels_group(const h5::Reader& r);
/// Check the root attributes (foreign, newer); warn for format 1. Returns the version.
int check_system_format(h5::Reader& r);
/// Labels through a guarded read (h5::guarded).
void encode_labels(h5::Encoder& e, const Labels& labels);
Labels decode_labels_from(h5::Decoder& d);

}  // namespace mriotrace::io
