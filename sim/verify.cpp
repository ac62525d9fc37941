#include "verify.hpp"

#include <map>

#include <nlohmann/json.hpp>

namespace sim {

std::vector<planned_command> plan_commands(unsigned k)
{
    std::vector<planned_command> v;
    for (unsigned i = 0; i < k; i++) {
        planned_command c;
        c.verb = i % 2 == 0 ? "Get" : "Replace";
        c.target = "./Sim/" + std::to_string(i) + "/Node";
        if (c.verb == "Replace") {
            c.data = "d-" + std::to_string(i);
        }
        v.push_back(c);
    }
    return v;
}

bool received_as_planned(const std::string &verb, const std::string &target,
                         const std::string &data)
{
    const std::string prefix = "./Sim/", suffix = "/Node";
    if (target.size() <= prefix.size() + suffix.size()
        || target.compare(0, prefix.size(), prefix) != 0
        || target.compare(target.size() - suffix.size(), suffix.size(),
                          suffix) != 0) {
        return true;    // not a planned target
    }
    std::string k = target.substr(prefix.size(), target.size()
                                  - prefix.size() - suffix.size());
    if (k.find_first_not_of("0123456789") != std::string::npos
        || k.size() > 9) {
        return true;
    }
    unsigned n = unsigned(std::stoul(k));
    if (n % 2 == 0) return verb == "Get";
    return verb == "Replace" && data == "d-" + k;
}

std::string queue_body(const planned_command &c)
{
    nlohmann::json j = {{"verb", c.verb}, {"target", c.target}};
    if (!c.data.empty()) {
        j["data"] = c.data;
        j["format"] = "chr";
    }
    return j.dump();
}

namespace {

void problem(verify_counts &counts, const std::string &text)
{
    if (counts.problems.size() < 10) {
        counts.problems.push_back(text);
    }
}

// a string member, "" when absent, null or not a string
std::string text(const nlohmann::json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

void check_device(const std::string &device_id,
                  const std::vector<planned_command> &planned,
                  const std::string &commands_json, const outcome_mix &mix,
                  uint64_t seed, verify_counts &counts)
{
    std::map<std::string, nlohmann::json> by_id;
    nlohmann::json list = nlohmann::json::parse(commands_json, nullptr, false);
    if (list.is_array()) {
        for (auto &c : list) {
            if (c.is_object() && c.contains("id") && c["id"].is_string()) {
                std::string id = c["id"].get<std::string>();
                if (!by_id.emplace(id, c).second) {
                    counts.duplicated++;    // the same command listed twice
                    problem(counts, device_id + ": command " + id
                                        + " listed twice");
                }
            }
        }
    }
    for (const auto &p : planned) {
        counts.commands++;
        std::string where = device_id + " " + p.verb + " " + p.target;
        auto it = by_id.find(p.id);
        if (it == by_id.end()) {
            counts.missing++;
            problem(counts, where + ": not in the device's commands");
            continue;
        }
        const nlohmann::json &c = it->second;
        std::string state = text(c, "state");
        if (state == "queued" || state == "sent") {
            counts.missing++;
            problem(counts, where + ": still " + state);
            continue;
        }
        outcome o = decide_outcome(mix, seed, device_id, p.target);
        bool ok2xx = o.status >= 200 && o.status < 300;
        int status = c.contains("status") && c["status"].is_number_integer()
                     ? c["status"].get<int>() : -1;
        size_t want_results = p.verb == "Get" && o.status == 200 ? 1 : 0;
        const nlohmann::json &results = c.contains("results")
                                        && c["results"].is_array()
                                        ? c["results"] : nlohmann::json::array();
        if (results.size() > want_results && want_results == 1) {
            counts.duplicated++;
            problem(counts, where + ": " + std::to_string(results.size())
                                + " results");
            continue;
        }
        bool right = state == (ok2xx ? "done" : "failed") && status == o.status
                     && results.size() == want_results;
        if (right && want_results == 1) {
            const nlohmann::json &r = results[0];
            right = r.is_object() && text(r, "data") == o.data
                    && text(r, "source") == p.target;
        }
        if (right) {
            counts.correct++;
        } else {
            counts.wrong++;
            problem(counts, where + ": got " + state + " "
                                + std::to_string(status) + " with "
                                + std::to_string(results.size())
                                + " results, want "
                                + (ok2xx ? "done " : "failed ")
                                + std::to_string(o.status));
        }
    }
}

}  // namespace sim
