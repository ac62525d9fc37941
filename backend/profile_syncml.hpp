// Raw SyncML profiles, as Fleet users write them: a sequence of top-level
// <Replace>, <Add>, <Exec>, <Delete> and <Atomic> commands.
#pragma once

#include "profile_model.hpp"

#include <string>
#include <vector>

namespace omadm_backend {

// One setting per Item, in document order, commands inside an <Atomic>
// sharing its number.  Parsed with expat, namespace-aware, no DOCTYPE, with
// depth and element limits like the module's decoder.  On failure returns
// false with `err` naming the problem and its line in `text`.
bool parse_profile_syncml(const std::string &text,
                          std::vector<ProfileSetting> &out, ProfileError &err);

}  // namespace omadm_backend
