#include "tests/pagerduty_sim/api_util.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace bastion::pagerduty_sim {

namespace json = boost::json;

// PagerDuty refuses pages reaching past this many records.
constexpr int kMaxOffsetPlusLimit = 10000;
constexpr int kMaxLimit = 100;

ApiReply ErrorReply(int status, int code, absl::string_view message, std::vector<std::string> errors) {
  json::object error{{"message", internal::J(message)}, {"code", code}};
  if (!errors.empty()) {
    json::array list;
    for (const std::string& e : errors) list.emplace_back(e);
    error["errors"] = std::move(list);
  }
  return ApiReply{status, json::serialize(json::object{{"error", std::move(error)}})};
}

namespace internal {

json::string_view J(absl::string_view s) { return json::string_view(s.data(), s.size()); }
absl::string_view S(const json::string& s) { return absl::string_view(s.data(), s.size()); }

std::optional<std::string> Call::Query(absl::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key || k == absl::StrCat(key, "[]")) return v;
  }
  return std::nullopt;
}

std::vector<std::string> Call::QueryList(absl::string_view key) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == key || k == absl::StrCat(key, "[]")) out.push_back(v);
  }
  return out;
}

std::string Call::ActingUserId() const {
  if (from_user_id) return *from_user_id;
  return request.caller.user_id;
}

Object* Call::Wrapped(absl::string_view key) {
  if (!body.is_object()) return nullptr;
  json::value* v = body.as_object().if_contains(J(key));
  return v != nullptr && v->is_object() ? &v->as_object() : nullptr;
}

ApiReply JsonReply(int status, const json::value& body) { return ApiReply{status, json::serialize(body)}; }

ApiReply EntityReply(int status, absl::string_view key, const Object& entity) {
  return JsonReply(status, json::object{{J(key), Render(entity)}});
}

ApiReply NoContent() { return ApiReply{204, ""}; }

ApiReply NotFound() { return ErrorReply(404, 2100, "Not Found"); }

ApiReply Invalid(std::vector<std::string> errors) {
  return ErrorReply(400, 2001, "Invalid Input Provided", std::move(errors));
}

std::optional<PageParams> ParsePage(const Call& c, ApiReply* error) {
  PageParams page;
  if (auto limit = c.Query("limit")) {
    if (!absl::SimpleAtoi(*limit, &page.limit) || page.limit < 1) {
      *error = Invalid({"limit must be a positive integer"});
      return std::nullopt;
    }
    page.limit = std::min(page.limit, kMaxLimit);  // PagerDuty clamps rather than refuses.
  }
  if (auto offset = c.Query("offset")) {
    if (!absl::SimpleAtoi(*offset, &page.offset) || page.offset < 0) {
      *error = Invalid({"offset must be a non-negative integer"});
      return std::nullopt;
    }
  }
  if (static_cast<int64_t>(page.offset) + page.limit > kMaxOffsetPlusLimit) {
    *error = Invalid({absl::StrCat("Offset + limit must not exceed ", kMaxOffsetPlusLimit,
                                   "; narrow the query instead of paging further")});
    return std::nullopt;
  }
  return page;
}

ApiReply OffsetPage(const Call& c, absl::string_view key, std::vector<json::value> items, Paging paging) {
  ApiReply error;
  std::optional<PageParams> page = ParsePage(c, &error);
  if (!page) return error;
  json::array slice;
  const size_t begin = std::min<size_t>(page->offset, items.size());
  const size_t end = std::min<size_t>(begin + page->limit, items.size());
  for (size_t i = begin; i < end; ++i) slice.push_back(std::move(items[i]));
  json::object out{{J(key), std::move(slice)},
                   {"limit", page->limit},
                   {"offset", page->offset},
                   {"more", end < items.size()}};
  if (paging == Paging::kClassic) {
    out["total"] = c.Query("total") == std::optional<std::string>("true")
                       ? json::value(static_cast<int64_t>(items.size()))
                       : json::value(nullptr);
  }
  return JsonReply(200, out);
}

std::optional<absl::Time> ParseTime(absl::string_view text) {
  absl::Time t;
  std::string err;
  std::string s(text);
  if (absl::ParseTime(absl::RFC3339_full, s, &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%dT%H:%M:%S", s, absl::UTCTimeZone(), &t, &err)) return t;
  if (absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)) return t;
  return std::nullopt;
}

bool ContainsIgnoreCase(absl::string_view haystack, absl::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(haystack), absl::AsciiStrToLower(needle));
}

absl::string_view RefId(const Object& o, absl::string_view key) {
  const json::value* v = o.if_contains(J(key));
  if (v == nullptr || !v->is_object()) return "";
  return Str(v->as_object(), "id");
}

bool HasRef(const Object& o, absl::string_view array_key, absl::string_view id) {
  const json::value* v = o.if_contains(J(array_key));
  if (v == nullptr || !v->is_array()) return false;
  for (const json::value& item : v->as_array()) {
    if (item.is_object() && Str(item.as_object(), "id") == id) return true;
  }
  return false;
}

void Merge(Object& target, const Object& patch) {
  for (const auto& member : patch) {
    if (member.key() == "id" || member.key() == "self" || member.key() == "html_url") continue;
    if (member.key() == "type" && target.contains("type")) continue;
    target[member.key()] = member.value();
  }
}

std::vector<json::value> Rendered(const std::vector<Object>& items) {
  std::vector<json::value> out;
  out.reserve(items.size());
  for (const Object& o : items) out.emplace_back(Render(o));
  return out;
}

std::optional<json::value> ParseJson(absl::string_view text) {
  json::error_code ec;
  json::value v = json::parse(J(text), ec);
  if (ec) return std::nullopt;
  return v;
}

}  // namespace internal
}  // namespace bastion::pagerduty_sim

namespace bastion::pagerduty_sim::internal {

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ParseForm(absl::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (absl::string_view part : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
    out.emplace_back(PercentDecode(kv.first), PercentDecode(kv.second));
  }
  return out;
}

Object UserRef(Account& account, absl::string_view user_id) {
  if (const Object* user = account.Find("users", user_id)) return Reference(*user, "user_reference");
  return Object{{"id", J(user_id)}, {"type", "user_reference"}};
}

}  // namespace bastion::pagerduty_sim::internal
