// The selector grammar (JMS 1.1 section 3.8, with ActiveMQ's literals) and the tree it builds.
// A failed parse names the furthest position the parser reached and the tokens it tried there.
#include "protocol/selector.hpp"
#include "protocol/selector_node.hpp"

#include <tao/pegtl.hpp>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace actormq::protocol {

namespace {

namespace pegtl = tao::pegtl;

// What the parse noted on its way: the furthest failure, the tokens expected there, and how
// deeply it nests.
struct parse_state {
  const char* begin = nullptr;
  size_t furthest = 0;
  std::vector<const char*> expected;
  size_t depth = 0;
  bool too_deep = false;
  size_t too_deep_at = 0;

  void note(size_t at, const char* what) {
    if (at < furthest)
      return;
    if (at > furthest) {
      furthest = at;
      expected.clear();
    }
    if (std::find(expected.begin(), expected.end(), what) == expected.end())
      expected.push_back(what);
  }
};

namespace grammar {

using namespace pegtl;

struct ws : star<space> {};
struct ident_first : sor<alpha, one<'_', '$'>> {};
struct ident_other : sor<alnum, one<'_', '$'>> {};

template <class Word> struct word : seq<Word, not_at<ident_other>> {};
template <class Word> struct key : seq<word<Word>, ws> {};

struct kw_and : key<TAO_PEGTL_ISTRING("AND")> {};
struct kw_or : key<TAO_PEGTL_ISTRING("OR")> {};
struct kw_not : key<TAO_PEGTL_ISTRING("NOT")> {};
struct kw_between : key<TAO_PEGTL_ISTRING("BETWEEN")> {};
struct kw_in : key<TAO_PEGTL_ISTRING("IN")> {};
struct kw_like : key<TAO_PEGTL_ISTRING("LIKE")> {};
struct kw_escape : key<TAO_PEGTL_ISTRING("ESCAPE")> {};
struct kw_is : key<TAO_PEGTL_ISTRING("IS")> {};
struct kw_null : key<TAO_PEGTL_ISTRING("NULL")> {};

struct reserved : sor<word<TAO_PEGTL_ISTRING("AND")>, word<TAO_PEGTL_ISTRING("OR")>,
                      word<TAO_PEGTL_ISTRING("NOT")>, word<TAO_PEGTL_ISTRING("BETWEEN")>,
                      word<TAO_PEGTL_ISTRING("IN")>, word<TAO_PEGTL_ISTRING("LIKE")>,
                      word<TAO_PEGTL_ISTRING("ESCAPE")>, word<TAO_PEGTL_ISTRING("IS")>,
                      word<TAO_PEGTL_ISTRING("NULL")>, word<TAO_PEGTL_ISTRING("TRUE")>,
                      word<TAO_PEGTL_ISTRING("FALSE")>> {};

struct identifier : seq<not_at<reserved>, ident_first, star<ident_other>> {};
struct true_literal : word<TAO_PEGTL_ISTRING("TRUE")> {};
struct false_literal : word<TAO_PEGTL_ISTRING("FALSE")> {};
struct string_literal : seq<one<'\''>, star<sor<string<'\'', '\''>, not_one<'\''>>>, one<'\''>> {};
struct exponent : seq<one<'e', 'E'>, opt<one<'+', '-'>>, plus<digit>> {};
struct float_literal
    : seq<sor<seq<plus<digit>, one<'.'>, star<digit>, opt<exponent>>,
              seq<one<'.'>, plus<digit>, opt<exponent>>, seq<plus<digit>, exponent>>,
          not_at<ident_other>> {};
struct hex_literal : seq<one<'0'>, one<'x', 'X'>, plus<xdigit>, not_at<ident_other>> {};
struct decimal_literal
    : seq<range<'1', '9'>, star<digit>, opt<one<'l', 'L'>>, not_at<ident_other>> {};
struct octal_literal : seq<one<'0'>, star<range<'0', '7'>>, not_at<ident_other>> {};

// Punctuation and operators, each followed by white space.
template <class Rule> struct token : seq<Rule, ws> {};
struct lparen : token<one<'('>> {};
struct rparen : token<one<')'>> {};
struct comma : token<one<','>> {};
struct op_ne : token<string<'<', '>'>> {};
struct op_le : token<string<'<', '='>> {};
struct op_ge : token<string<'>', '='>> {};
struct op_eq : token<one<'='>> {};
struct op_lt : token<one<'<'>> {};
struct op_gt : token<one<'>'>> {};
struct plus_op : token<one<'+'>> {};
struct minus_op : token<one<'-'>> {};
struct times_op : token<one<'*'>> {};
struct divide_op : token<one<'/'>> {};
struct minus_sign : token<one<'-'>> {};
struct plus_sign : token<one<'+'>> {};
struct end : eof {};

// Fails once the parse nests deeper than max_selector_nesting (the parser recurses there).
struct depth_guard {
  using rule_t = depth_guard;
  using subs_t = empty_list;
  template <apply_mode, rewind_mode, template <typename...> class, template <typename...> class,
            class Input, class... Rest>
  static bool match(Input& in, parse_state& s, Rest&&...) {
    if (s.depth <= max_selector_nesting)
      return true;
    if (!s.too_deep) {
      s.too_deep = true;
      s.too_deep_at = static_cast<size_t>(in.current() - s.begin);
    }
    return false;
  }
};

struct or_expr;
struct unary;
struct literal
    : sor<token<string_literal>, token<float_literal>, token<hex_literal>, token<decimal_literal>,
          token<octal_literal>, token<true_literal>, token<false_literal>> {};
struct parenthesized : seq<lparen, depth_guard, or_expr, rparen> {};
struct primary : sor<parenthesized, literal, token<identifier>> {};
struct negation : seq<minus_sign, depth_guard, unary> {};
struct affirmation : seq<plus_sign, depth_guard, unary> {};
struct unary : sor<negation, affirmation, primary> {};
struct multiplicative : seq<unary, star<sor<times_op, divide_op>, unary>> {};
struct additive : seq<multiplicative, star<sor<plus_op, minus_op>, multiplicative>> {};

struct eq_tail : seq<op_eq, additive> {};
struct ne_tail : seq<op_ne, additive> {};
struct le_tail : seq<op_le, additive> {};
struct lt_tail : seq<op_lt, additive> {};
struct ge_tail : seq<op_ge, additive> {};
struct gt_tail : seq<op_gt, additive> {};
struct between_tail : seq<kw_between, additive, kw_and, additive> {};
struct not_between_tail : seq<kw_not, kw_between, additive, kw_and, additive> {};
struct in_list : seq<lparen, token<string_literal>, star<comma, token<string_literal>>, rparen> {};
struct in_tail : seq<kw_in, in_list> {};
struct not_in_tail : seq<kw_not, kw_in, in_list> {};
struct like_pattern : seq<token<string_literal>, opt<kw_escape, token<string_literal>>> {};
struct like_tail : seq<kw_like, like_pattern> {};
struct not_like_tail : seq<kw_not, kw_like, like_pattern> {};
struct is_not_null_tail : seq<kw_is, kw_not, kw_null> {};
struct is_null_tail : seq<kw_is, kw_null> {};
struct predicate
    : seq<additive, opt<sor<eq_tail, ne_tail, le_tail, lt_tail, ge_tail, gt_tail, between_tail,
                            not_between_tail, in_tail, not_in_tail, like_tail, not_like_tail,
                            is_not_null_tail, is_null_tail>>> {};
struct not_expr;
struct not_op : seq<kw_not, depth_guard, not_expr> {};
struct not_expr : sor<not_op, predicate> {};
struct and_expr : seq<not_expr, star<kw_and, not_expr>> {};
struct or_expr : seq<and_expr, star<kw_or, and_expr>> {};
struct selector_rule : seq<ws, or_expr, end> {};

} // namespace grammar

// The tokens a failed parse names ("expected ...").
template <class Rule> struct expected_token { static constexpr const char* name = nullptr; };
#define ACTORMQ_EXPECTED(rule, text)                                                               \
  template <> struct expected_token<grammar::rule> { static constexpr const char* name = text; };
ACTORMQ_EXPECTED(kw_and, "AND")
ACTORMQ_EXPECTED(kw_or, "OR")
ACTORMQ_EXPECTED(kw_not, "NOT")
ACTORMQ_EXPECTED(kw_between, "BETWEEN")
ACTORMQ_EXPECTED(kw_in, "IN")
ACTORMQ_EXPECTED(kw_like, "LIKE")
ACTORMQ_EXPECTED(kw_escape, "ESCAPE")
ACTORMQ_EXPECTED(kw_is, "IS")
ACTORMQ_EXPECTED(kw_null, "NULL")
ACTORMQ_EXPECTED(identifier, "an identifier")
ACTORMQ_EXPECTED(true_literal, "TRUE")
ACTORMQ_EXPECTED(false_literal, "FALSE")
ACTORMQ_EXPECTED(string_literal, "a string literal")
ACTORMQ_EXPECTED(float_literal, "a number")
ACTORMQ_EXPECTED(hex_literal, "a number")
ACTORMQ_EXPECTED(decimal_literal, "a number")
ACTORMQ_EXPECTED(octal_literal, "a number")
ACTORMQ_EXPECTED(lparen, "'('")
ACTORMQ_EXPECTED(rparen, "')'")
ACTORMQ_EXPECTED(comma, "','")
ACTORMQ_EXPECTED(op_ne, "'<>'")
ACTORMQ_EXPECTED(op_le, "'<='")
ACTORMQ_EXPECTED(op_ge, "'>='")
ACTORMQ_EXPECTED(op_eq, "'='")
ACTORMQ_EXPECTED(op_lt, "'<'")
ACTORMQ_EXPECTED(op_gt, "'>'")
ACTORMQ_EXPECTED(plus_op, "'+'")
ACTORMQ_EXPECTED(minus_op, "'-'")
ACTORMQ_EXPECTED(times_op, "'*'")
ACTORMQ_EXPECTED(divide_op, "'/'")
ACTORMQ_EXPECTED(minus_sign, "'-'")
ACTORMQ_EXPECTED(plus_sign, "'+'")
ACTORMQ_EXPECTED(end, "the end of the selector")
#undef ACTORMQ_EXPECTED

template <class Rule>
constexpr bool nests =
    std::is_same_v<Rule, grammar::parenthesized> || std::is_same_v<Rule, grammar::negation> ||
    std::is_same_v<Rule, grammar::affirmation> || std::is_same_v<Rule, grammar::not_op>;

template <class Rule> struct tracking_control : pegtl::normal<Rule> {
  template <class Input, class... Rest> static void start(const Input&, parse_state& s, Rest&&...) {
    if constexpr (nests<Rule>)
      ++s.depth;
  }
  template <class Input, class... Rest>
  static void success(const Input&, parse_state& s, Rest&&...) {
    if constexpr (nests<Rule>)
      --s.depth;
  }
  template <class Input, class... Rest>
  static void failure(const Input& in, parse_state& s, Rest&&...) {
    if constexpr (nests<Rule>)
      --s.depth;
    if constexpr (expected_token<Rule>::name != nullptr)
      s.note(static_cast<size_t>(in.current() - s.begin), expected_token<Rule>::name);
  }
};

// The rules that become nodes of the parse tree.
template <class Rule>
using selected = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<
        grammar::identifier, grammar::true_literal, grammar::false_literal, grammar::string_literal,
        grammar::float_literal, grammar::hex_literal, grammar::decimal_literal,
        grammar::octal_literal, grammar::plus_op, grammar::minus_op, grammar::times_op,
        grammar::divide_op>,
    pegtl::parse_tree::remove_content::on<
        grammar::negation, grammar::not_op, grammar::eq_tail, grammar::ne_tail, grammar::le_tail,
        grammar::lt_tail, grammar::ge_tail, grammar::gt_tail, grammar::between_tail,
        grammar::not_between_tail, grammar::in_tail, grammar::not_in_tail, grammar::like_tail,
        grammar::not_like_tail, grammar::is_not_null_tail, grammar::is_null_tail>,
    pegtl::parse_tree::fold_one::on<grammar::parenthesized, grammar::additive,
                                    grammar::multiplicative, grammar::predicate, grammar::and_expr,
                                    grammar::or_expr>>;

using tree = pegtl::parse_tree::node;
using node_ptr = std::unique_ptr<selector_node>;

failure refusal(const std::string& selector_text, size_t at, const std::string& why) {
  return failure{std::make_error_code(std::errc::invalid_argument),
                 "selector " + selector_text + ": at column " + std::to_string(at + 1) + ": " +
                     why};
}

std::string unquote(std::string_view quoted) {
  std::string out;
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    out.push_back(quoted[i]);
    if (quoted[i] == '\'')
      ++i; // '' stands for one quote
  }
  return out;
}

// The first UTF-8 code point of `s` and how many bytes it took (0 for an empty or bad string).
std::pair<char32_t, size_t> first_code_point(std::string_view s) {
  if (s.empty())
    return {0, 0};
  auto b = static_cast<unsigned char>(s[0]);
  size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
  if (n == 0 || n > s.size())
    return {0, 0};
  char32_t c = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
  for (size_t i = 1; i < n; ++i)
    c = (c << 6) | (static_cast<unsigned char>(s[i]) & 0x3f);
  return {c, n};
}

class builder {
public:
  builder(const std::string& text, const char* begin) : text_(text), begin_(begin) {}

  result<node_ptr> build(const tree& n) {
    auto out = std::make_unique<selector_node>();
    if (n.is_type<grammar::identifier>()) {
      out->op = selector_op::identifier;
      out->text = n.string();
    } else if (n.is_type<grammar::true_literal>() || n.is_type<grammar::false_literal>()) {
      out->value = n.is_type<grammar::true_literal>();
    } else if (n.is_type<grammar::string_literal>()) {
      out->value = unquote(n.string_view());
    } else if (n.is_type<grammar::float_literal>()) {
      auto s = n.string();
      out->value = std::strtod(s.c_str(), nullptr);
    } else if (n.is_type<grammar::decimal_literal>() || n.is_type<grammar::hex_literal>() ||
               n.is_type<grammar::octal_literal>()) {
      auto s = n.string();
      if (!s.empty() && (s.back() == 'l' || s.back() == 'L'))
        s.pop_back();
      int base = n.is_type<grammar::hex_literal>()     ? 16
                 : n.is_type<grammar::octal_literal>() ? 8
                                                       : 10;
      errno = 0;
      const char* digits = base == 16 ? s.c_str() + 2 : s.c_str();
      auto v = std::strtoll(digits, nullptr, base);
      if (errno == ERANGE)
        return error(n, "the number " + s + " is out of range (a 64-bit integer)");
      out->value = static_cast<int64_t>(v);
    } else if (n.is_type<grammar::negation>()) {
      return unary_op(n, selector_op::negate);
    } else if (n.is_type<grammar::not_op>()) {
      return unary_op(n, selector_op::logical_not);
    } else if (n.is_type<grammar::or_expr>() || n.is_type<grammar::and_expr>()) {
      out->op = n.is_type<grammar::or_expr>() ? selector_op::logical_or : selector_op::logical_and;
      for (auto& c : n.children)
        if (!add_child(*out, *c))
          return std::move(failure_);
    } else if (n.is_type<grammar::additive>() || n.is_type<grammar::multiplicative>()) {
      return chain(n);
    } else if (n.is_type<grammar::predicate>()) {
      return predicate(n);
    } else {
      return error(n, "internal: an unexpected node");
    }
    return out;
  }

private:
  result<node_ptr> error(const tree& n, const std::string& why) {
    return refusal(text_, static_cast<size_t>(n.m_begin.data - begin_), why);
  }

  bool add_child(selector_node& parent, const tree& n) {
    auto child = build(n);
    if (!child) {
      failure_ = child.error();
      return false;
    }
    parent.children.push_back(std::move(*child));
    return true;
  }

  result<node_ptr> unary_op(const tree& n, selector_op op) {
    auto out = std::make_unique<selector_node>();
    out->op = op;
    if (n.children.size() != 1)
      return error(n, "internal: an operator without its operand");
    if (!add_child(*out, *n.children[0]))
      return std::move(failure_);
    return out;
  }

  // a op b op c ... evaluated left to right.
  result<node_ptr> chain(const tree& n) {
    auto left = build(*n.children.at(0));
    if (!left)
      return left;
    node_ptr acc = std::move(*left);
    for (size_t i = 1; i + 1 < n.children.size(); i += 2) {
      auto& op = *n.children[i];
      auto next = std::make_unique<selector_node>();
      next->op = op.is_type<grammar::plus_op>()    ? selector_op::add
                 : op.is_type<grammar::minus_op>() ? selector_op::subtract
                 : op.is_type<grammar::times_op>() ? selector_op::multiply
                                                   : selector_op::divide;
      next->children.push_back(std::move(acc));
      if (!add_child(*next, *n.children[i + 1]))
        return std::move(failure_);
      acc = std::move(next);
    }
    return acc;
  }

  result<node_ptr> predicate(const tree& n) {
    if (n.children.size() != 2)
      return error(n, "internal: a predicate without its test");
    auto value = build(*n.children[0]);
    if (!value)
      return value;
    auto& tail = *n.children[1];
    auto out = std::make_unique<selector_node>();
    out->children.push_back(std::move(*value));
    bool negated = false;
    auto operands = [&](selector_op op) -> bool {
      out->op = op;
      for (auto& c : tail.children)
        if (!add_child(*out, *c))
          return false;
      return true;
    };
    bool ok = true;
    if (tail.is_type<grammar::eq_tail>())
      ok = operands(selector_op::equal);
    else if (tail.is_type<grammar::ne_tail>())
      ok = operands(selector_op::not_equal);
    else if (tail.is_type<grammar::lt_tail>())
      ok = operands(selector_op::less);
    else if (tail.is_type<grammar::le_tail>())
      ok = operands(selector_op::less_equal);
    else if (tail.is_type<grammar::gt_tail>())
      ok = operands(selector_op::greater);
    else if (tail.is_type<grammar::ge_tail>())
      ok = operands(selector_op::greater_equal);
    else if (tail.is_type<grammar::between_tail>() || tail.is_type<grammar::not_between_tail>()) {
      negated = tail.is_type<grammar::not_between_tail>();
      ok = operands(selector_op::between);
    } else if (tail.is_type<grammar::in_tail>() || tail.is_type<grammar::not_in_tail>()) {
      negated = tail.is_type<grammar::not_in_tail>();
      out->op = selector_op::in;
      for (auto& c : tail.children)
        out->strings.push_back(unquote(c->string_view()));
      std::sort(out->strings.begin(), out->strings.end());
    } else if (tail.is_type<grammar::like_tail>() || tail.is_type<grammar::not_like_tail>()) {
      negated = tail.is_type<grammar::not_like_tail>();
      out->op = selector_op::like;
      out->text = unquote(tail.children.at(0)->string_view());
      if (tail.children.size() == 2) {
        auto escape = unquote(tail.children[1]->string_view());
        auto [c, bytes] = first_code_point(escape);
        if (bytes == 0 || bytes != escape.size())
          return error(*tail.children[1], "expected one character after ESCAPE");
        out->escape = c;
      }
    } else if (tail.is_type<grammar::is_null_tail>() || tail.is_type<grammar::is_not_null_tail>()) {
      negated = tail.is_type<grammar::is_not_null_tail>();
      out->op = selector_op::is_null;
    } else {
      return error(tail, "internal: an unexpected test");
    }
    if (!ok)
      return std::move(failure_);
    if (!negated)
      return out;
    auto outer = std::make_unique<selector_node>();
    outer->op = selector_op::negated_test;
    outer->children.push_back(std::move(out));
    return outer;
  }

  const std::string& text_;
  const char* begin_;
  failure failure_;
};

std::string expected_list(const std::vector<const char*>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0)
      out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

} // namespace

selector::selector(std::string text, selector_options options, std::unique_ptr<selector_node> root)
    : text_(std::move(text)), options_(options), root_(std::move(root)) {}

selector::~selector() = default;

result<std::shared_ptr<const selector>> selector::parse(std::string_view text,
                                                        selector_options options) {
  std::string whole(text);
  auto quoted_text = "\"" + whole.substr(0, 200) + (whole.size() > 200 ? "...\"" : "\"");
  if (text.size() > max_selector_bytes)
    return refusal(quoted_text, max_selector_bytes,
                   "longer than the maximum of " + std::to_string(max_selector_bytes) + " bytes");
  constexpr std::string_view prefix = "convert_string_expressions:";
  std::string_view body = text;
  if (body.substr(0, prefix.size()) == prefix) {
    options.convert_string_expressions = true;
    body.remove_prefix(prefix.size());
  }
  size_t offset = text.size() - body.size();
  pegtl::memory_input<> in(body.data(), body.size(), "selector");
  parse_state state;
  state.begin = body.data();
  std::unique_ptr<tree> root;
  try {
    root = pegtl::parse_tree::parse<grammar::selector_rule, selected, pegtl::nothing,
                                    tracking_control>(in, state);
  } catch (const pegtl::parse_error& e) {
    return refusal(quoted_text, offset, std::string("internal: ") + e.what());
  }
  if (state.too_deep)
    return refusal(quoted_text, offset + state.too_deep_at,
                   "nested more than " + std::to_string(max_selector_nesting) + " levels deep");
  if (!root || root->children.size() != 1) {
    auto why = state.expected.empty() ? std::string("cannot parse")
                                      : "expected " + expected_list(state.expected);
    if (state.furthest < body.size()) {
      auto [c, bytes] = first_code_point(body.substr(state.furthest));
      why += " (found " +
             (bytes ? "'" + std::string(body.substr(state.furthest, bytes)) + "'"
                    : std::string("a byte that is not UTF-8")) +
             ")";
    }
    return refusal(quoted_text, offset + state.furthest, why);
  }
  builder b(quoted_text, text.data());
  auto tree_root = b.build(*root->children.front());
  if (!tree_root)
    return tree_root.error();
  return std::shared_ptr<const selector>(
      std::make_shared<selector>(whole, options, std::move(*tree_root)));
}

} // namespace actormq::protocol
