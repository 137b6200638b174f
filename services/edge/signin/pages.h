// The few HTML pages a person sees while signing an AI client in: the consent page and the error
// page. Server-rendered, no script, no third-party assets, a strict Content-Security-Policy
// (the consent form may post only to Bastion itself), readable on a phone, and every text says
// what is happening and what to do.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/http/http_server.h"

namespace bastion::edge {

std::string HtmlEscape(absl::string_view text);

struct ConsentPage {
  std::string client_name;
  std::string client_host;  // where the client will receive the grant (redirect URI's host)
  std::string redirect_uri;  // the answer's destination: the page lets its form lead there
  std::string tenant;
  std::string server;
  std::string user_email;
  std::vector<std::string> tools;  // what the user may call today
  std::string form_action;         // the consent endpoint
  std::vector<std::pair<std::string, std::string>> hidden_fields;
};

http::Response RenderConsent(const ConsentPage& page);
// `what` names what failed; `next` says what the person can do about it.
http::Response RenderError(int status, absl::string_view what, absl::string_view next);

}  // namespace bastion::edge
