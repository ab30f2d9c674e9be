// Appending to a user's embedding without re-encoding the history: item vectors and projections
// are per item, so the new items' rows are concatenated to the old ones.
#pragma once

#include <cstdint>

#include "pplug/persona_plug.h"

namespace pplug::serve {

// `old` rows then `added` rows, keeping the last `max_items` (the plug-in's max_history). Both
// must come from the same plug-in and encoder (InvalidArgument otherwise).
UserEmbedding append_embedding(const UserEmbedding& old, const UserEmbedding& added,
                               int64_t max_items);

}  // namespace pplug::serve
