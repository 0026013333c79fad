// mongodump/mongorestore read their command lines with go-flags (common/options/options.go); the
// dump and restore commands read theirs the same way. This pass rewrites such a command line into
// an equivalent one CLI11 reads without ambiguity: every value as --name=value, verbosity as a
// count, positional arguments after "--".
#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "tools/bsonpipe/cli.hpp"

namespace bsonpipe::tools {

namespace {

enum class Arity : std::uint8_t {
  kNone,      // a bool flag: never takes a value (`--drop=x` is an error, `--drop x` leaves x positional)
  kOptional,  // --archive, --verbose: a value only as --name=value
  kRequired,  // --db: --db=x, --db x, -dx, -d=x
};

struct Flag {
  const CLI::Option* option = nullptr;
  std::string long_name;   // without dashes; "" if none
  std::string short_name;  // one character; "" if none
  Arity arity = Arity::kRequired;
};

// go-flags' name for a flag in its messages: "-d, --db", "--drop".
std::string go_name(const Flag& f) {
  if (!f.short_name.empty() && !f.long_name.empty()) return "-" + f.short_name + ", --" + f.long_name;
  if (!f.short_name.empty()) return "-" + f.short_name;
  return "--" + f.long_name;
}

// go-flags: "-x..." and "--x..." are options; "-", "--" and "---x" are not.
bool is_option(const std::string& a) {
  if (a.size() > 1 && a[0] == '-' && a[1] != '-') return true;
  return a.size() > 2 && a[0] == '-' && a[1] == '-' && a[2] != '-';
}

// A value in double quotes is unquoted, as go-flags does (strconv.Unquote); false if malformed.
bool unquote(std::string& v) {
  if (v.empty() || v.front() != '"') return true;
  if (v.size() < 2 || v.back() != '"') return false;
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c == '"') return false;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i + 1 >= v.size()) return false;
    switch (v[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      default: return false;
    }
  }
  v = std::move(out);
  return true;
}

std::string usage(const std::string& what) {
  return "error parsing command line options: " + what;
}

// The flags a command takes, by go-flags name: one entry per long/short name pair.
std::vector<Flag> command_flags(const CLI::App& cmd) {
  std::vector<Flag> flags;
  for (const CLI::Option* o : cmd.get_options()) {
    if (!o->nonpositional()) continue;
    const auto& longs = o->get_lnames();
    const auto& shorts = o->get_snames();
    Arity arity = o->get_expected_max() == 0   ? Arity::kNone
                  : o->get_expected_min() == 0 ? Arity::kOptional
                                               : Arity::kRequired;
    // -v/--verbose counts (a flag for CLI11) but takes an optional level, as in mongo-tools.
    if (std::find(longs.begin(), longs.end(), "verbose") != longs.end()) arity = Arity::kOptional;
    // One entry per name: CLI11 options may have aliases (--tls,--ssl).
    for (std::size_t i = 0; i < std::max(longs.size(), shorts.size()); ++i)
      flags.push_back({o, i < longs.size() ? longs[i] : "", i < shorts.size() ? shorts[i] : "", arity});
  }
  return flags;
}

// One pass over a command line, word by word; single-threaded, used once.
class Normalizer {
 public:
  Normalizer(const CLI::App& cmd, const std::vector<std::string>& args) : flags_(command_flags(cmd)), args_(args) {}

  Result<std::vector<std::string>> run(MongoTool tool) {
    for (i_ = 0; i_ < args_.size(); ++i_) {
      const std::string& a = args_[i_];
      Status s;
      if (a == "--help" || a == "--version") {
        out_.push_back(a);
      } else if (!is_option(a)) {
        s = positional(a);
      } else if (a.rfind("--", 0) == 0) {
        s = long_option(a);
      } else {
        s = short_options(a);
      }
      if (!s) return s;
    }
    if (Status s = finish(tool); !s) return s;
    return std::move(out_);
  }

 private:
  const Flag* find_long(const std::string& n) const {
    for (auto& f : flags_)
      if (f.long_name == n) return &f;
    return nullptr;
  }
  const Flag* find_short(char c) const {
    for (auto& f : flags_)
      if (f.short_name.size() == 1 && f.short_name[0] == c) return &f;
    return nullptr;
  }

  // A word that is not an option: a connection string, or another positional argument.
  Status positional(const std::string& a) {
    if (a.empty()) return {};  // as mongo-tools skips empty positional arguments
    if (a.rfind("mongodb://", 0) == 0 || a.rfind("mongodb+srv://", 0) == 0) {
      if (!uri_arg_.empty())
        return Status(ErrorCode::kInvalidArgument,
                      usage("too many URIs found in positional arguments: only one URI can be set as a positional "
                            "argument"));
      uri_arg_ = a;
    } else {
      positional_.push_back(a);
    }
    return {};
  }

  // --name or --name=value.
  Status long_option(const std::string& a) {
    std::string name = a.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Flag* f = find_long(name);
    if (f == nullptr) return Status(ErrorCode::kInvalidArgument, usage("unknown option `--" + name + "`"));
    return apply(*f, has_value ? &value : nullptr, f->arity == Arity::kRequired);
  }

  // -x, -xyz (several flags), -dshop / -d=shop (a value).
  Status short_options(const std::string& a) {
    std::string names = a.substr(1);
    std::string value;
    bool has_value = false;
    if (names.size() > 1 && names[1] == '=') {  // -d=shop
      value = names.substr(2);
      names.resize(1);
      has_value = true;
    } else if (names.size() > 1) {  // -dshop, -vvv: the rest is the first flag's value if it takes one
      const Flag* first = find_short(names[0]);
      if (first != nullptr && first->arity != Arity::kNone) {
        value = names.substr(1);
        names.resize(1);
        has_value = true;
      }
    }
    Status s;
    for (std::size_t k = 0; k < names.size() && s.is_ok(); ++k) {
      const Flag* f = find_short(names[k]);
      if (f == nullptr)
        return Status(ErrorCode::kInvalidArgument, usage("unknown option `-" + std::string(1, names[k]) + "`"));
      bool last = k + 1 == names.size();
      s = apply(*f, has_value && k == 0 ? &value : nullptr, last && f->arity == Arity::kRequired);
    }
    return s;
  }

  Status verbose(const std::string& v, bool given) {
    // -v, --verbose (each +1), --verbose=N / -vN (+N), -vvv (+3), -vv=3 (=3).
    if (!given || v.empty()) {
      ++verbosity_;
    } else if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }) && v.size() < 4) {
      verbosity_ += std::stoi(v);
    } else if (std::all_of(v.begin(), v.end(), [](char c) { return c == 'v'; })) {
      verbosity_ += static_cast<int>(v.size()) + 1;
    } else if (v.size() >= 3 && v[v.size() - 2] == '=' && v.back() >= '0' && v.back() <= '9' &&
               std::all_of(v.begin(), v.end() - 2, [](char c) { return c == 'v'; })) {
      verbosity_ = v.back() - '0';
    } else {
      return Status(ErrorCode::kInvalidArgument, usage("invalid verbosity value '" + v + "'"));
    }
    return {};
  }

  // A flag's value: `value` is the text after '=' (or glued to a short flag), null if none.
  // `may_take_next`: the flag is last in its word, so a required value may be the next word.
  Status take_value(const Flag& f, const std::string* value, bool may_take_next, std::string& v, bool& given) {
    given = value != nullptr;
    if (given) v = *value;
    if (f.arity == Arity::kNone) {
      if (given)
        return Status(ErrorCode::kInvalidArgument, usage("bool flag `" + go_name(f) + "' cannot have an argument"));
    } else if (f.arity == Arity::kRequired && !given) {
      if (!may_take_next || i_ + 1 >= args_.size())
        return Status(ErrorCode::kInvalidArgument, usage("expected argument for flag `" + go_name(f) + "'"));
      v = args_[++i_];
      if (is_option(v))
        return Status(ErrorCode::kInvalidArgument,
                      usage("expected argument for flag `" + go_name(f) + "', but got option `" + v + "'"));
      given = true;
    }
    if (given && !unquote(v))
      return Status(ErrorCode::kInvalidArgument,
                    usage("invalid argument for flag `" + go_name(f) + "' (expected string): invalid syntax"));
    return {};
  }

  // Applies one flag: appends its canonical form (--name, --name=value) or counts verbosity.
  Status apply(const Flag& f, const std::string* value, bool may_take_next) {
    std::string v;
    bool given = false;
    if (Status s = take_value(f, value, may_take_next, v, given); !s) return s;
    const std::string& canonical =
        f.option->get_lnames().empty() ? "-" + f.option->get_snames()[0] : "--" + f.option->get_lnames()[0];
    if (f.long_name == "verbose" || f.short_name == "v") return verbose(v, given);
    if (f.long_name == "uri" || f.long_name == "from" || f.long_name == "to") uri_flag_ = true;
    // go-flags: a flag given again overrides its earlier value; a bool flag stays set. Repeatable
    // flags (--nsInclude, --excludeCollection, ...) keep every value.
    if (f.option->get_items_expected_max() <= 1) {
      auto earlier = std::find_if(out_.begin(), out_.end(), [&](const std::string& w) {
        return w == canonical || w.rfind(canonical + "=", 0) == 0;
      });
      if (earlier != out_.end()) out_.erase(earlier);
    }
    if (f.arity == Arity::kNone) {
      out_.push_back(canonical);
    } else if (f.arity == Arity::kOptional && !given) {
      out_.push_back(canonical);  // its optional value (--archive: standard input/output)
    } else if (v.empty()) {
      // --archive=, --db= (empty): not given, as mongo-tools reads an empty value.
    } else {
      out_.push_back(canonical + "=" + v);
    }
    return {};
  }

  // After the last word: the positional URI, the positional arguments' count, verbosity.
  Status finish(MongoTool tool) {
    if (!uri_arg_.empty()) {
      if (uri_flag_)
        return Status(ErrorCode::kInvalidArgument,
                      usage("illegal argument combination: cannot specify a URI in a positional argument and --uri"));
      out_.push_back("--uri=" + uri_arg_);
    }
    if (tool == MongoTool::kDump && !positional_.empty())
      return Status(ErrorCode::kInvalidArgument,
                    usage("error parsing positional arguments: provide only one MongoDB connection string. Connection "
                          "strings must begin with mongodb:// or mongodb+srv:// schemes"));
    if (tool == MongoTool::kRestore && positional_.size() > 1)
      return Status(ErrorCode::kInvalidArgument,
                    usage("error parsing positional arguments: provide only one polling interval in seconds and only "
                          "one MongoDB connection string. Connection strings must begin with mongodb:// or "
                          "mongodb+srv:// schemes"));
    for (int v = 0; v < std::min(verbosity_, 9); ++v) out_.push_back("--verbose");
    if (!positional_.empty()) {
      out_.push_back("--");
      out_.insert(out_.end(), positional_.begin(), positional_.end());
    }
    return {};
  }

  std::vector<Flag> flags_;
  const std::vector<std::string>& args_;
  std::size_t i_ = 0;  // the word being read; take_value() may consume the next one
  std::vector<std::string> out_, positional_;
  std::string uri_arg_;    // a connection string given as a positional argument
  bool uri_flag_ = false;  // --uri (or --from/--to) was given
  int verbosity_ = 0;
};

}  // namespace

Result<std::vector<std::string>> normalize_mongo_args(const CLI::App& cmd, const std::vector<std::string>& args,
                                                      MongoTool tool) {
  return Normalizer(cmd, args).run(tool);
}

}  // namespace bsonpipe::tools
