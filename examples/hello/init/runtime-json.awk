# runtime-json.awk: read a LinuxKit bundle's runtime.json and print shell commands for the
# parts the systemkit example init carries out:
#
#   sk_mount 'DESTINATION' 'TYPE' 'SOURCE' 'OPT1,OPT2,...'   one per "mounts" entry, in order
#   sk_mkdir 'PATH'                                          one per "mkdir" entry, in order
#   sk_unsupported 'WHAT'                                    a field that is set but not handled
#
# Every argument is single-quoted for the shell, so the output is meant for `eval`.
# The parser is a small JSON tokenizer (strings, punctuation, literals), so it does not depend on
# how the file is indented. Runs under busybox awk as well as gawk/mawk.

function unsupported(what) {
    if (!(what in seen)) print "sk_unsupported " q(what)
    seen[what] = 1
}

function q(s) {
    gsub(/'/, "'\\''", s)
    return "'" s "'"
}

function unescape(s,    out, i, c, n) {
    out = ""
    n = length(s)
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1)
        if (c == "\\" && i < n) {
            i++
            c = substr(s, i, 1)
            if (c == "n") c = "\n"
            else if (c == "t") c = "\t"
            else if (c == "r") c = "\r"
            else if (c == "b") c = "\b"
            else if (c == "f") c = "\f"
            else if (c == "u") { c = "\\u" }
        }
        out = out c
    }
    return out
}

function value(v, isstr) {
    # a scalar value at depth d
    if (d == 2 && key[1] == "mkdir" && isstr) {
        print "sk_mkdir " q(v)
    } else if (d == 3 && key[1] == "mounts" && type[3] == "{") {
        if (key[3] == "destination") m_dest = v
        else if (key[3] == "type") m_type = v
        else if (key[3] == "source") m_src = v
    } else if (d == 4 && key[1] == "mounts" && key[3] == "options") {
        m_opts = (m_opts == "" ? v : m_opts "," v)
    } else if (d == 1 && key[1] == "namespace" && v != "") {
        unsupported("namespace")
    } else if (d == 2 && key[1] == "bindNS" && v != "") {
        unsupported("bindNS." key[2])
    } else if (d == 2 && key[1] == "cgroups" && v != "") {
        unsupported("cgroups")
    }
}

function token(t, isstr) {
    if (!isstr && (t == "{" || t == "[")) {
        if (d == 2 && key[1] == "interfaces")
            unsupported("interfaces")
        d++
        type[d] = t
        key[d] = ""
        expect_key = (t == "{")
        if (d == 3 && key[1] == "mounts" && t == "{") {
            m_dest = ""; m_type = ""; m_src = ""; m_opts = ""
        }
        return
    }
    if (!isstr && (t == "}" || t == "]")) {
        if (d == 3 && key[1] == "mounts" && type[3] == "{")
            print "sk_mount " q(m_dest) " " q(m_type) " " q(m_src) " " q(m_opts)
        d--
        expect_key = 0
        return
    }
    if (!isstr && t == ":") { expect_key = 0; return }
    if (!isstr && t == ",") { expect_key = (type[d] == "{"); return }
    if (type[d] == "{" && expect_key) { key[d] = t; return }
    if (!isstr && t == "null") return
    value(t, isstr)
}

{ text = text $0 "\n" }

END {
    d = 0
    n = length(text)
    i = 1
    while (i <= n) {
        c = substr(text, i, 1)
        if (c == " " || c == "\t" || c == "\n" || c == "\r") { i++; continue }
        if (c == "\"") {
            j = i + 1
            s = ""
            while (j <= n) {
                c = substr(text, j, 1)
                if (c == "\\") { s = s c substr(text, j + 1, 1); j += 2; continue }
                if (c == "\"") break
                s = s c
                j++
            }
            token(unescape(s), 1)
            i = j + 1
            continue
        }
        if (index("{}[]:,", c) > 0) { token(c, 0); i++; continue }
        j = i
        while (j <= n && index("{}[]:, \t\r\n", substr(text, j, 1)) == 0) j++
        token(substr(text, i, j - i), 0)
        i = j
    }
}
