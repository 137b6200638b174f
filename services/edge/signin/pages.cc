#include "services/edge/signin/pages.h"

#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace bastion::edge {
namespace {

constexpr absl::string_view kStyle =
    "body{font-family:system-ui,sans-serif;line-height:1.5;max-width:34em;margin:0 auto;padding:1.5em;"
    "color:#1a1a1a}h1{font-size:1.4em}ul{padding-left:1.2em}.tools{max-height:14em;overflow:auto;"
    "border:1px solid #ccc;padding:.5em 1em}.actions{display:flex;gap:1em;margin-top:1.5em}"
    "button{font-size:1em;padding:.7em 1.4em;border-radius:.3em;border:1px solid #555;cursor:pointer}"
    "button.primary{background:#116b39;color:#fff;border-color:#0d5a2f}code{word-break:break-all}";

// Where a form on the page may send the browser: Bastion itself, plus (for the consent form,
// whose answer redirects to the client) the origin of the client's redirect URI, since browsers
// apply form-action to the redirects that follow a submission too.
std::string FormTargets(absl::string_view redirect_uri) {
  std::string targets = "'self'";
  const size_t scheme_end = redirect_uri.find(':');
  if (redirect_uri.empty() || scheme_end == absl::string_view::npos) return targets;
  std::string origin;
  if (redirect_uri.substr(scheme_end, 3) == "://") {
    const size_t path = redirect_uri.find_first_of("/?#", scheme_end + 3);
    origin = std::string(redirect_uri.substr(0, path));
  } else {
    origin = std::string(redirect_uri.substr(0, scheme_end + 1));  // a private-use scheme, e.g. cursor:
  }
  // Only characters a URL origin can hold: nothing that could end the header or the directive.
  for (char c : origin) {
    if (!absl::ascii_isalnum(c) && std::string_view(":/.-_[]+").find(c) == std::string_view::npos) return targets;
  }
  return absl::StrCat(targets, " ", origin);
}

http::Response Html(int status, absl::string_view title, absl::string_view body,
                    absl::string_view form_targets = "'self'") {
  http::Response r;
  r.status = status;
  r.headers = {{"Content-Type", "text/html; charset=utf-8"},
               {"Cache-Control", "no-store"},
               {"Content-Security-Policy",
                absl::StrCat("default-src 'none'; style-src 'unsafe-inline'; form-action ", form_targets,
                             "; frame-ancestors 'none'; base-uri 'none'")},
               {"X-Frame-Options", "DENY"},
               {"Referrer-Policy", "no-referrer"}};
  r.body = absl::StrCat("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
                        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>",
                        HtmlEscape(title), "</title><style>", kStyle, "</style></head><body>", body,
                        "</body></html>");
  return r;
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

http::Response RenderConsent(const ConsentPage& page) {
  std::string tools;
  if (page.tools.empty()) {
    tools = "<p>You may not call any PagerDuty tool yet; an admin grants tools through access profiles. "
            "The client will see new tools as soon as they are granted.</p>";
  } else {
    tools = absl::StrCat("<p>Today you may call these ", page.tools.size(), " tools:</p><div class=\"tools\"><ul>");
    for (const auto& t : page.tools) absl::StrAppend(&tools, "<li><code>", HtmlEscape(t), "</code></li>");
    absl::StrAppend(&tools, "</ul></div>");
  }
  std::string hidden;
  for (const auto& [name, value] : page.hidden_fields) {
    absl::StrAppend(&hidden, "<input type=\"hidden\" name=\"", HtmlEscape(name), "\" value=\"", HtmlEscape(value),
                    "\">");
  }
  const std::string body = absl::StrCat(
      "<h1>Allow ", HtmlEscape(page.client_name), " to use PagerDuty as you?</h1>",
      "<p>You are signed in as <strong>", HtmlEscape(page.user_email), "</strong> in <strong>",
      HtmlEscape(page.tenant), "</strong>.</p>",
      "<p><strong>", HtmlEscape(page.client_name), "</strong> (it receives access at <code>",
      HtmlEscape(page.client_host), "</code>) asks to call the PagerDuty tools of server <strong>",
      HtmlEscape(page.server), "</strong> on your behalf. Every call is recorded under your name.</p>", tools,
      "<p>Allow only if you started this from your AI client just now.</p>",
      "<form method=\"post\" action=\"", HtmlEscape(page.form_action), "\">", hidden,
      "<div class=\"actions\"><button class=\"primary\" type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>"
      "<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></div></form>");
  return Html(200, absl::StrCat("Allow ", page.client_name, "?"), body, FormTargets(page.redirect_uri));
}

http::Response RenderError(int status, absl::string_view what, absl::string_view next) {
  return Html(status, what, absl::StrCat("<h1>", HtmlEscape(what), "</h1><p>", HtmlEscape(next), "</p>"));
}

}  // namespace bastion::edge
