# SPDX-License-Identifier: Apache-2.0
"""A small GraphQL parser for the subset of the language openIMIS clients send (Python 3
standard library only): operations (query, mutation) with names and variable definitions,
selection sets with aliases, arguments, fragments (named and inline), directives @include and
@skip; values of every kind (variables, ints, floats, strings incl. block strings, booleans,
null, enums, lists, objects). A syntax error raises GqlSyntaxError with graphql-core 2's
message shape ("Syntax Error GraphQL (line:col) ...")."""


class GqlSyntaxError(Exception):
    def __init__(self, message, line, col):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


PUNCT = set("!$()[]{}:=@|&")
MAX_DEPTH = 64          # nesting bound: a parser must not recurse without limit
MAX_TOKENS = 100000


class Var:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class Enum(str):
    """An unquoted enum literal (status: ACTIVE); compares equal to its text."""


class Field:
    __slots__ = ("alias", "name", "args", "selections", "directives")

    def __init__(self, alias, name, args, selections, directives):
        self.alias = alias
        self.name = name
        self.args = args
        self.selections = selections
        self.directives = directives

    @property
    def key(self):
        return self.alias or self.name


class Spread:
    __slots__ = ("name", "directives")

    def __init__(self, name, directives):
        self.name = name
        self.directives = directives


class Inline:
    __slots__ = ("type_cond", "selections", "directives")

    def __init__(self, type_cond, selections, directives):
        self.type_cond = type_cond
        self.selections = selections
        self.directives = directives


class Operation:
    def __init__(self, kind, name, var_defs, selections):
        self.kind = kind
        self.name = name
        self.var_defs = var_defs      # list of (name, type_text, default)
        self.selections = selections


class Document:
    def __init__(self, operations, fragments):
        self.operations = operations
        self.fragments = fragments    # name -> (type_cond, selections)


def _tokenize(src):
    toks = []
    i, n, line, lstart = 0, len(src), 1, 0
    while i < n:
        c = src[i]
        if c in " \t,\r\ufeff":
            i += 1
            continue
        if c == "\n":
            line += 1
            i += 1
            lstart = i
            continue
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        col = i - lstart + 1
        if len(toks) > MAX_TOKENS:
            raise GqlSyntaxError("Document too large", line, col)
        if c in PUNCT:
            toks.append(("p", c, line, col))
            i += 1
        elif c == "." and src.startswith("...", i):
            toks.append(("p", "...", line, col))
            i += 3
        elif c.isalpha() or c == "_":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(("name", src[i:j], line, col))
            i = j
        elif c.isdigit() or c == "-":
            j = i + 1
            while j < n and (src[j].isdigit() or src[j] in ".eE+-"):
                j += 1
            text = src[i:j]
            try:
                if any(ch in text for ch in ".eE"):
                    toks.append(("float", float(text), line, col))
                else:
                    toks.append(("int", int(text), line, col))
            except ValueError:
                raise GqlSyntaxError("Invalid number, unexpected %s." % text, line, col)
            i = j
        elif src.startswith('"""', i):
            j = src.find('"""', i + 3)
            if j < 0:
                raise GqlSyntaxError("Unterminated string", line, col)
            text = src[i + 3:j]
            toks.append(("str", text, line, col))
            line += text.count("\n")
            i = j + 3
        elif c == '"':
            j = i + 1
            out = []
            while True:
                if j >= n or src[j] == "\n":
                    raise GqlSyntaxError("Unterminated string", line, col)
                ch = src[j]
                if ch == '"':
                    break
                if ch == "\\":
                    j += 1
                    if j >= n:
                        raise GqlSyntaxError("Unterminated string", line, col)
                    e = src[j]
                    if e == "u":
                        hexd = src[j + 1:j + 5]
                        try:
                            out.append(chr(int(hexd, 16)))
                        except ValueError:
                            raise GqlSyntaxError("Bad character escape sequence", line, col)
                        j += 4
                    elif e in '"\\/':
                        out.append(e)
                    elif e in "bfnrt":
                        out.append({"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}[e])
                    else:
                        raise GqlSyntaxError("Bad character escape sequence", line, col)
                else:
                    out.append(ch)
                j += 1
            toks.append(("str", "".join(out), line, col))
            i = j + 1
        else:
            raise GqlSyntaxError('Unexpected character "%s"' % c, line, col)
    toks.append(("eof", None, line, i - lstart + 1))
    return toks


class _Parser:
    def __init__(self, src):
        self.t = _tokenize(src)
        self.i = 0
        self.depth = 0

    def peek(self, kind=None, value=None):
        tok = self.t[self.i]
        if kind is not None and tok[0] != kind:
            return False
        if value is not None and tok[1] != value:
            return False
        return True

    def fail(self, what=None):
        tok = self.t[self.i]
        shown = "EOF" if tok[0] == "eof" else (
            '"%s"' % tok[1] if tok[0] == "p" else '%s "%s"' % (
                {"name": "Name", "int": "Int", "float": "Float", "str": "String"}[tok[0]], tok[1]))
        raise GqlSyntaxError("Syntax Error GraphQL (%d:%d) %s" % (
            tok[2], tok[3], what or "Unexpected %s" % shown), tok[2], tok[3])

    def take(self, kind, value=None):
        if not self.peek(kind, value):
            tok = self.t[self.i]
            got = "EOF" if tok[0] == "eof" else '"%s"' % tok[1]
            self.fail('Expected %s, found %s' % ('"%s"' % value if value else "Name", got))
        tok = self.t[self.i]
        self.i += 1
        return tok[1]

    def document(self):
        ops, frags = [], {}
        if self.peek("eof"):
            self.fail()
        while not self.peek("eof"):
            if self.peek("p", "{"):
                ops.append(Operation("query", None, [], self.selection_set()))
            elif self.peek("name", "query") or self.peek("name", "mutation") or self.peek("name", "subscription"):
                kind = self.take("name")
                name = self.take("name") if self.peek("name") else None
                var_defs = self.var_defs() if self.peek("p", "(") else []
                self.directives()
                ops.append(Operation(kind, name, var_defs, self.selection_set()))
            elif self.peek("name", "fragment"):
                self.take("name")
                name = self.take("name")
                self.take("name", "on")
                cond = self.take("name")
                self.directives()
                frags[name] = (cond, self.selection_set())
            else:
                self.fail()
        return Document(ops, frags)

    def var_defs(self):
        self.take("p", "(")
        out = []
        if self.peek("p", ")"):
            self.fail()
        while not self.peek("p", ")"):
            self.take("p", "$")
            name = self.take("name")
            self.take("p", ":")
            typ = self.type_ref()
            default = None
            if self.peek("p", "="):
                self.take("p", "=")
                default = self.value(const=True)
            out.append((name, typ, default))
        self.take("p", ")")
        return out

    def type_ref(self):
        if self.peek("p", "["):
            self.take("p", "[")
            inner = self.type_ref()
            self.take("p", "]")
            text = "[%s]" % inner
        else:
            text = self.take("name")
        if self.peek("p", "!"):
            self.take("p", "!")
            text += "!"
        return text

    def directives(self):
        out = []
        while self.peek("p", "@"):
            self.take("p", "@")
            name = self.take("name")
            out.append((name, self.arguments() if self.peek("p", "(") else {}))
        return out

    def selection_set(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail("Selection sets nested too deeply")
        self.take("p", "{")
        sels = []
        while not self.peek("p", "}"):
            if self.peek("p", "..."):
                self.take("p", "...")
                if self.peek("name", "on"):
                    self.take("name")
                    cond = self.take("name")
                    dirs = self.directives()
                    sels.append(Inline(cond, self.selection_set(), dirs))
                elif self.peek("p", "{") or self.peek("p", "@"):
                    dirs = self.directives()
                    sels.append(Inline(None, self.selection_set(), dirs))
                else:
                    name = self.take("name")
                    sels.append(Spread(name, self.directives()))
                continue
            if not self.peek("name"):
                self.fail()
            name = self.take("name")
            alias = None
            if self.peek("p", ":"):
                self.take("p", ":")
                alias, name = name, self.take("name")
            args = self.arguments() if self.peek("p", "(") else {}
            dirs = self.directives()
            sub = self.selection_set() if self.peek("p", "{") else None
            sels.append(Field(alias, name, args, sub, dirs))
        self.take("p", "}")
        self.depth -= 1
        if not sels:
            self.fail("Syntax Error: empty selection set")
        return sels

    def arguments(self):
        self.take("p", "(")
        out = {}
        if self.peek("p", ")"):
            self.fail()
        while not self.peek("p", ")"):
            name = self.take("name")
            self.take("p", ":")
            out[name] = self.value()
        self.take("p", ")")
        return out

    def value(self, const=False):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail("Values nested too deeply")
        tok = self.t[self.i]
        kind, val = tok[0], tok[1]
        if kind == "p" and val == "$" and not const:
            self.i += 1
            out = Var(self.take("name"))
        elif kind in ("int", "float", "str"):
            self.i += 1
            out = val
        elif kind == "name":
            self.i += 1
            out = {"true": True, "false": False, "null": None}.get(val, Enum(val)) \
                if val in ("true", "false", "null") else Enum(val)
        elif kind == "p" and val == "[":
            self.i += 1
            out = []
            while not self.peek("p", "]"):
                out.append(self.value(const))
            self.take("p", "]")
        elif kind == "p" and val == "{":
            self.i += 1
            out = {}
            while not self.peek("p", "}"):
                k = self.take("name")
                self.take("p", ":")
                out[k] = self.value(const)
            self.take("p", "}")
        else:
            self.fail()
        self.depth -= 1
        return out


def parse(src):
    """Parses a GraphQL document; raises GqlSyntaxError."""
    return _Parser(src).document()


def resolve_value(v, variables):
    """Replaces variables in an argument value by their values (missing = None)."""
    if isinstance(v, Var):
        return variables.get(v.name)
    if isinstance(v, list):
        return [resolve_value(x, variables) for x in v]
    if isinstance(v, dict):
        return {k: resolve_value(x, variables) for k, x in v.items()}
    return v
