#include "common/pagerduty/validate.h"

// valijson reports problems by exception only with this set; without it, it aborts.
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/pagerduty/text.h"
#include "common/text/utf8.h"

namespace bastion::pagerduty {
namespace {

namespace json = boost::json;
using internal::Cat;

// Two compiled forms of one input schema. valijson evaluates `format` and `pattern` even on
// values of the wrong type and then fails hard, so the structural form (without them) runs
// first; the full form runs only on arguments whose types are already right.
struct CompiledSchema {
  valijson::Schema structural;
  valijson::Schema full;
};

json::value WithoutStringChecks(const json::value& schema) {
  if (schema.is_array()) {
    json::array out;
    for (const json::value& item : schema.get_array()) out.push_back(WithoutStringChecks(item));
    return out;
  }
  if (!schema.is_object()) return schema;
  json::object out;
  for (const auto& member : schema.get_object()) {
    // Only keywords are dropped; a property that happens to be called "format" stays.
    const bool keyword_position = member.value().is_string();
    if (keyword_position && (member.key() == "format" || member.key() == "pattern")) continue;
    out[member.key()] = WithoutStringChecks(member.value());
  }
  return out;
}

std::unique_ptr<CompiledSchema> Compile(const ToolDef& tool, std::string* error) {
  auto compiled = std::make_unique<CompiledSchema>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    const json::value full = tool.input_schema;
    const json::value structural = WithoutStringChecks(full);
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(structural), compiled->structural);
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(full), compiled->full);
  } catch (const std::exception& e) {
    *error = Cat("input schema of ", tool.name, " does not compile: ", e.what());
    return nullptr;
  }
  return compiled;
}

bool InCatalog(const ToolDef& tool) {
  const std::vector<ToolDef>& tools = Catalog();
  return &tool >= tools.data() && &tool < tools.data() + tools.size();
}

class SchemaCache {
 public:
  // Catalog tools are compiled once and kept; any other ToolDef (tests build their own) is
  // compiled per call, since its address may later be reused by a different tool.
  const CompiledSchema* Get(const ToolDef& tool, std::unique_ptr<CompiledSchema>& scratch,
                            std::string* error) {
    if (!InCatalog(tool)) {
      scratch = Compile(tool, error);
      return scratch.get();
    }
    absl::MutexLock lock(&mutex_);
    auto it = compiled_.find(&tool);
    if (it != compiled_.end()) return it->second.get();
    std::unique_ptr<CompiledSchema> compiled = Compile(tool, error);
    if (compiled == nullptr) return nullptr;
    return compiled_.emplace(&tool, std::move(compiled)).first->second.get();
  }

 private:
  absl::Mutex mutex_;
  std::map<const ToolDef*, std::unique_ptr<CompiledSchema>> compiled_ ABSL_GUARDED_BY(mutex_);
};

SchemaCache& Cache() {
  static auto* const kCache = new SchemaCache();
  return *kCache;
}

// Where one valijson error points, resolved against the arguments and the schema together.
struct Location {
  std::string path = "arguments";
  const json::value* value = nullptr;
  const json::object* schema = nullptr;
};

const json::object* ChildSchema(const json::object* schema, const json::value& parent,
                                std::string_view key) {
  if (schema == nullptr) return nullptr;
  if (parent.is_array()) {
    const json::value* items = schema->if_contains("items");
    return items != nullptr && items->is_object() ? &items->get_object() : nullptr;
  }
  if (const json::value* properties = schema->if_contains("properties")) {
    if (properties->is_object()) {
      if (const json::value* property = properties->get_object().if_contains(key)) {
        return property->is_object() ? &property->get_object() : nullptr;
      }
    }
  }
  const json::value* additional = schema->if_contains("additionalProperties");
  return additional != nullptr && additional->is_object() ? &additional->get_object() : nullptr;
}

Location Locate(const std::vector<std::string>& context, const json::value& arguments,
                const json::object& schema) {
  Location location;
  location.value = &arguments;
  location.schema = &schema;
  // context is {"<root>", "[name]", "[0]", ...}.
  for (size_t i = 1; i < context.size(); ++i) {
    std::string_view token = context[i];
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']') {
      token = token.substr(1, token.size() - 2);
    }
    const json::value* parent = location.value;
    const json::value* child = nullptr;
    if (parent != nullptr && parent->is_array()) {
      location.path += Cat("[", token, "]");
      size_t index = 0;
      for (char c : token) index = index * 10 + static_cast<size_t>(c - '0');
      if (index < parent->get_array().size()) child = &parent->get_array()[index];
    } else {
      location.path += Cat(".", token);
      if (parent != nullptr && parent->is_object()) child = parent->get_object().if_contains(token);
    }
    location.schema = parent != nullptr ? ChildSchema(location.schema, *parent, token) : nullptr;
    location.value = child;
  }
  return location;
}

std::string Number(const json::value& value) { return json::serialize(value); }

std::string Items(int64_t count) {
  return Cat(std::to_string(count), count == 1 ? " item" : " items");
}

// What a schema node accepts, in words.
std::string Describe(const json::object& schema) {
  if (const json::value* options = schema.if_contains("enum"); options && options->is_array()) {
    std::string out = "one of ";
    bool first = true;
    for (const json::value& option : options->get_array()) {
      out += Cat(first ? "" : ", ", json::serialize(option));
      first = false;
    }
    return out;
  }
  std::string type;
  if (const json::value* t = schema.if_contains("type"); t && t->is_string()) {
    type = std::string(t->get_string());
  }
  const json::value* min = schema.if_contains("minimum");
  const json::value* max = schema.if_contains("maximum");
  if (type == "integer" || type == "number") {
    if (min && max) return Cat(type, " between ", Number(*min), " and ", Number(*max));
    if (min) return Cat(type, " >= ", Number(*min));
    if (max) return Cat(type, " <= ", Number(*max));
    return type;
  }
  if (type == "string") {
    const json::value* format = schema.if_contains("format");
    if (format && format->is_string() && format->get_string() == "date-time") {
      return "an ISO 8601 date-time with offset, e.g. 2025-01-31T09:00:00Z";
    }
    std::string out = "string";
    const json::value* min_length = schema.if_contains("minLength");
    const json::value* max_length = schema.if_contains("maxLength");
    if (min_length && min_length->is_int64() && min_length->get_int64() == 1 && !max_length) {
      out = "non-empty string";
    } else if (min_length && max_length) {
      out += Cat(" of ", Number(*min_length), " to ", Number(*max_length), " characters");
    } else if (min_length) {
      out += Cat(" of at least ", Number(*min_length), " characters");
    } else if (max_length) {
      out += Cat(" of at most ", Number(*max_length), " characters");
    }
    if (const json::value* pattern = schema.if_contains("pattern");
        pattern && pattern->is_string()) {
      out += Cat(" matching ", std::string_view(pattern->get_string()));
    }
    return out;
  }
  if (type == "boolean") return "boolean (true or false)";
  if (type == "array") {
    std::string out = "array";
    const json::value* min_items = schema.if_contains("minItems");
    const json::value* max_items = schema.if_contains("maxItems");
    if (min_items && max_items && min_items->is_int64() && max_items->is_int64()) {
      out += min_items->get_int64() == max_items->get_int64()
                 ? Cat(" of exactly ", Items(max_items->get_int64()))
                 : Cat(" of ", std::to_string(min_items->get_int64()), " to ",
                       Items(max_items->get_int64()));
    } else if (min_items && min_items->is_int64()) {
      out += Cat(" of at least ", Items(min_items->get_int64()));
    } else if (max_items && max_items->is_int64()) {
      out += Cat(" of at most ", Items(max_items->get_int64()));
    }
    if (const json::value* items = schema.if_contains("items"); items && items->is_object()) {
      if (const json::value* t = items->get_object().if_contains("type"); t && t->is_string()) {
        out += Cat(" (", std::string_view(t->get_string()), " items)");
      }
    }
    return out;
  }
  if (type == "object") {
    const json::value* min_properties = schema.if_contains("minProperties");
    if (min_properties) return "object with at least one field";
    return "object";
  }
  return type.empty() ? "a different value" : type;
}

std::string Brief(const json::value& value) {
  std::string text = json::serialize(value);
  if (text.size() > 60) text = Cat(text.substr(0, 57), "...");
  return text;
}

std::string Allowed(const json::object* schema) {
  if (schema == nullptr) return "";
  const json::value* properties = schema->if_contains("properties");
  if (properties == nullptr || !properties->is_object() || properties->get_object().empty()) {
    return "; this takes no fields";
  }
  std::string out = "; expected one of: ";
  bool first = true;
  for (const auto& member : properties->get_object()) {
    out += Cat(first ? "" : ", ", std::string_view(member.key()));
    first = false;
  }
  return out;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// valijson also reports every enclosing object or array of a failing value; those add nothing.
bool IsEnclosingError(std::string_view description) {
  for (std::string_view prefix :
       {"Failed to validate against schema associated with property name",
        "Failed to validate item #", "Failed to validate against additional properties schema",
        "Failed to validate against child schema",
        "Failed to validate against schema associated with pattern"}) {
    if (StartsWith(description, prefix)) return true;
  }
  return false;
}

// The last 'quoted' word of a valijson description: the property it is about.
std::string Quoted(std::string_view description) {
  const size_t close = description.rfind('\'');
  if (close == std::string_view::npos || close == 0) return "";
  const size_t open = description.rfind('\'', close - 1);
  if (open == std::string_view::npos) return "";
  return std::string(description.substr(open + 1, close - open - 1));
}

absl::Status ToStatus(const valijson::ValidationResults& results, const json::value& arguments,
                      const json::object& schema) {
  std::vector<std::string> messages;
  std::set<std::string> seen;
  for (const valijson::ValidationResults::Error& error : results) {
    if (IsEnclosingError(error.description)) continue;
    const Location at = Locate(error.context, arguments, schema);
    const bool top = at.path == "arguments";
    std::string field;
    std::string problem;
    if (StartsWith(error.description, "Missing required property")) {
      field = Cat(at.path, ".", Quoted(error.description));
      problem = top ? "missing required argument" : "missing required field";
    } else if (StartsWith(error.description, "Object contains a property")) {
      field = Cat(at.path, ".", Quoted(error.description));
      problem = Cat(top ? "unknown argument" : "unknown field", Allowed(at.schema));
    } else {
      field = at.path;
      problem = at.schema != nullptr ? Cat("expected ", Describe(*at.schema))
                                     : std::string(error.description);
      if (at.value != nullptr) problem += Cat(", got ", Brief(*at.value));
    }
    if (!seen.insert(field).second) continue;
    messages.push_back(Cat(field, ": ", problem));
  }
  if (messages.empty()) return absl::InvalidArgumentError("arguments: do not match the schema");
  std::string text;
  for (size_t i = 0; i < messages.size() && i < 3; ++i) text += Cat(i ? "; " : "", messages[i]);
  if (messages.size() > 3) {
    text += Cat(" (and ", std::to_string(messages.size() - 3), " more)");
  }
  return absl::InvalidArgumentError(text);
}

}  // namespace

namespace {

// valijson counts characters (minLength, maxLength) assuming well-formed UTF-8 and reads past a
// table on anything else; JSON parsed from a request is always well-formed, but arguments built
// by code need not be. The path of the first string or member name that is not, or "".
std::string FirstMalformedText(const json::value& v, const std::string& path) {
  if (v.is_string()) {
    const json::string& s = v.get_string();
    return text::IsValidUtf8(absl::string_view(s.data(), s.size())) ? "" : path;
  }
  if (v.is_array()) {
    const json::array& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      std::string bad = FirstMalformedText(a[i], Cat(path, "[", std::to_string(i), "]"));
      if (!bad.empty()) return bad;
    }
  }
  if (v.is_object()) {
    for (const auto& member : v.get_object()) {
      const absl::string_view key(member.key().data(), member.key().size());
      if (!text::IsValidUtf8(key)) return path;
      std::string bad = FirstMalformedText(member.value(), Cat(path, ".", std::string(key.data(), key.size())));
      if (!bad.empty()) return bad;
    }
  }
  return "";
}

}  // namespace

absl::Status ValidateArguments(const ToolDef& tool, const boost::json::value& arguments) {
  static const json::value kNoArguments = json::object();
  const json::value& target = arguments.is_null() ? kNoArguments : arguments;
  if (!target.is_object()) {
    return absl::InvalidArgumentError(Cat("arguments: expected an object, got ", Brief(target)));
  }
  if (std::string bad = FirstMalformedText(target, "arguments"); !bad.empty()) {
    return absl::InvalidArgumentError(Cat(bad, ": text must be valid UTF-8"));
  }
  std::unique_ptr<CompiledSchema> scratch;
  std::string error;
  const CompiledSchema* compiled = Cache().Get(tool, scratch, &error);
  if (compiled == nullptr) return absl::InternalError(error);
  try {
    valijson::Validator validator;
    valijson::ValidationResults results;
    const valijson::adapters::BoostJsonAdapter adapter(target);
    if (!validator.validate(compiled->structural, adapter, &results) ||
        !validator.validate(compiled->full, adapter, &results)) {
      return ToStatus(results, target, tool.input_schema);
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(Cat("arguments: could not be checked: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status PrecompileSchemas() {
  for (const ToolDef& tool : Catalog()) {
    std::unique_ptr<CompiledSchema> scratch;
    std::string error;
    if (Cache().Get(tool, scratch, &error) == nullptr) return absl::InternalError(error);
  }
  return absl::OkStatus();
}

}  // namespace bastion::pagerduty
