// What the server says back to the device's own commands, gathered while
// the exchange request is built and used when the answer is: our Status
// code for a device command where it is not the message's, and which of
// our outstanding commands the device answered.
#pragma once

#include <map>
#include <set>
#include <string>

namespace omadm {

struct device_answers {
    // CmdID of a device command -> our Status code for it (a chunk kept,
    // an object refused, an Alert we cannot take in chunks)
    std::map<std::string, std::string> codes;
    // "<our MsgID>:<CmdID>" of our commands the device answered: they
    // leave session_state::outstanding with the answer
    std::set<std::string> answered;
};

}  // namespace omadm
