#!/usr/bin/env python3
"""Check migconv's generated schemas against real streams.

For every fixture stream (tests/fixtures/streams and the QEMU version
directories beside it, tests/fixtures/qemu-*, whose streams without a
vmdesc are read with tables made from their siblings):
  * the ASN.1 module generated from the stream (with names and --no-names)
    compiles with asn1Parser, and the module generated from the stream's
    BER is the same as the one generated from the legacy stream;
  * every device section body and subsection body of the BER (written with
    and without names) decodes with libtasn1's asn1Decoding against the type
    `migconv schema --bodies` names for it, and every decoded field name
    maps to its component identifier (libtasn1 does not check string
    values, so this is checked on asn1Decoding's output);
  * `migconv dump` output validates against the generated JSON Schema
    (python3-jsonschema, draft 2020-12): every fixture of every directory.
Negative controls on one fixture: a body with a field renamed, an integer
widened and two fields swapped, each still valid generic migconv BER
(MigConv.BodyL), is rejected; a damaged dump does not validate.
`schema --diff`: equal inputs give nothing (exit 0); QEMU 7.2's built-in
tables against 11.1's (every device and subsection difference the tables
files imply, computed here, and field changes read off them) and against
tables of QEMU 11.1 streams, a real -dump-vmstate file of QEMU 7.2 against
a 7.2 stream and against 11.1's, and a hand-changed vmsd give the expected
differences (exit 1); an ASN.1 module is refused with its reason.

The asn1Decoding calls are batched: one call per fixture and variant
decodes all bodies at once as one SEQUENCE of their types; only when that
fails are the bodies decoded one by one to name the culprit.

Usage: schema_check.py MIGCONV FIXTURES GENERIC_ASN1 WORKDIR
(a fresh directory is made inside WORKDIR, removed when everything passed)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MIGCONV, FIXTURES, GENERIC, WORK_PARENT = sys.argv[1:5]
WORK = WORK_PARENT
failures = []
# --no-names dumps are validated for these
NONAMES_JSON = ("pc-bare.mig", "q35-devices.mig", "s390x-ccw.mig", "pc-block.mig")
passes = 0


def ok(name):
    global passes
    passes += 1
    print("ok   " + name)


def bad(name, detail=""):
    failures.append(name)
    print("FAIL " + name)
    if detail:
        print("     " + detail[:2000].replace("\n", "\n     "))


def run(*args, check=True):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), p.returncode,
                                                p.stderr.decode(errors="replace")))
    return p


def ident(name):
    """The component identifier of a field name (migconv(1), SCHEMA)."""
    out = ""
    hyphen = False
    for c in name:
        if len(out) >= 60:
            break
        if c.isascii() and c.isalnum():
            if hyphen and out:
                out += "-"
            hyphen = False
            out += c
        else:
            hyphen = True
    if not ("a" <= out[:1] <= "z"):
        out = ("f-" if out else "f") + out
    return out[:64]


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(b)]) + b
    return head + content


def parse_tlv(buf, pos=0):
    """(tag, content start, end) of the TLV at pos (definite lengths)."""
    tag = buf[pos]
    l = buf[pos + 1]
    if l < 0x80:
        return tag, pos + 2, pos + 2 + l
    k = l & 0x7F
    n = int.from_bytes(buf[pos + 2:pos + 2 + k], "big")
    return tag, pos + 2 + k, pos + 2 + k + n


def children(buf, start, end):
    out = []
    while start < end:
        t, cs, e = parse_tlv(buf, start)
        out.append((t, start, cs, e))
        start = e
    return out


def add_batch(module_text, module_name, types):
    comps = ",\n".join("    b%d %s" % (i + 1, t) for i, t in enumerate(types))
    batch = "Batch-all ::= SEQUENCE {\n%s\n}\n" % comps
    k = module_text.rindex("\nEND")
    return module_text[:k] + "\n" + batch + module_text[k:]


def names_ok(decoded):
    """Every decoded 'name' value maps to the identifier of its parent
    component.  Returns (checked, list of mismatches)."""
    stack = []  # (indent, name)
    checked = 0
    bad_names = []
    for line in decoded.splitlines():
        m = re.match(r"^( *)name:(\S+)  type:(\S+)(?:  value:(.*))?$", line)
        if not m:
            continue
        ind, name, typ, value = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        while stack and stack[-1][0] >= ind:
            stack.pop()
        if name == "name" and typ == "UTF8_STR" and stack:
            parent = stack[-1][1]
            if value is not None and not parent.startswith("?") and parent != "NULL":
                want = ident(value if value is not None else "")
                if not (parent == want or re.fullmatch(re.escape(want) + r"-\d+", parent)):
                    bad_names.append("%s holds name %r" % (parent, value))
                checked += 1
        stack.append((ind, name))
    return checked, bad_names


def decode_batch(module, module_name, ber, index, label):
    """Decode all bodies listed in index with one asn1Decoding call."""
    data = open(ber, "rb").read()
    bodies = []
    types = []
    for line in index:
        off, length, typ = line.split()
        bodies.append(data[int(off):int(off) + int(length)])
        types.append(typ)
    text = open(module).read()
    bmod = module + ".batch.asn"
    with open(bmod, "w") as f:
        f.write(add_batch(text, module_name, types))
    bder = ber + ".batch.der"
    with open(bder, "wb") as f:
        f.write(tlv(0x30, b"".join(bodies)))
    p = run("asn1Decoding", bmod, bder, module_name + ".Batch-all", check=False)
    out = p.stdout.decode(errors="replace")
    if p.returncode == 0 and b"Decoding: SUCCESS" in p.stdout + p.stderr:
        return True, out, len(bodies)
    # find the culprit
    for i, (b, t) in enumerate(zip(bodies, types)):
        one = "%s.%d.der" % (ber, i)
        with open(one, "wb") as f:
            f.write(b)
        q = run("asn1Decoding", module, one, module_name + "." + t, check=False)
        if q.returncode != 0:
            bad(label, "body %d (%s) does not decode: %s" % (
                i, t, (q.stdout + q.stderr).decode(errors="replace")[-600:]))
            return False, "", len(bodies)
    bad(label, "batch failed: " + (p.stdout + p.stderr).decode(errors="replace")[-600:])
    return False, "", len(bodies)


def decode_one(module, module_name, typ, body, path):
    with open(path, "wb") as f:
        f.write(body)
    p = run("asn1Decoding", module, path, module_name + "." + typ, check=False)
    out = p.stdout.decode(errors="replace")
    return p.returncode == 0 and b"Decoding: SUCCESS" in p.stdout + p.stderr, out


# --tables FILE for the fixtures of a QEMU version directory, by target
TABLES = {}


def version_tables(d):
    """Tables per target made from the streams of d that carry a vmdesc, as
    for tests/qemu/test_versions.sh (vmsd names such as cpu mean other
    layouts on other targets)."""
    groups = {}
    for f in sorted(os.listdir(d)):
        if not f.endswith(".mig") or f.endswith("-suppress.mig"):
            continue
        groups.setdefault(target(f), []).append(os.path.join(d, f))
    for t, files in groups.items():
        out = os.path.join(WORK, "tables-%s-%s.json" % (os.path.basename(d), t))
        run(MIGCONV, "tables", "-q", "-f", "-o", out, *files)
        TABLES[(d, t)] = out


def target(name):
    first = name.split("-")[0]
    return "x86" if first in ("pc", "q35", "x86") else first


def targs(fx):
    t = TABLES.get((os.path.dirname(fx), target(os.path.basename(fx))))
    return ["--tables", t] if t else []


def label(fx):
    d = os.path.basename(os.path.dirname(fx))
    return os.path.basename(fx) if d == "streams" else d + "/" + os.path.basename(fx)


def check_fixture(fx):
    name = label(fx)
    base = os.path.join(WORK, name.replace("/", "-"))
    ber, bern = base + ".ber", base + ".nonames.ber"
    ta = targs(fx)
    run(MIGCONV, "legacy-to-ber", "-q", *ta, fx, ber)
    run(MIGCONV, "legacy-to-ber", "-q", "--no-names", *ta, fx, bern)
    mod, modn = base + ".asn", base + ".nonames.asn"
    run(MIGCONV, "schema", "-q", *ta, "-o", mod, fx)
    run(MIGCONV, "schema", "-q", *ta, "--no-names", "-o", modn, fx)
    for m in (mod, modn):
        p = run("asn1Parser", "-c", m, check=False)
        if p.returncode != 0:
            bad(name + ": asn1Parser -c " + os.path.basename(m),
                p.stderr.decode(errors="replace"))
            return 0
    ok(name + ": both modules compile with asn1Parser")
    from_ber = run(MIGCONV, "schema", "-q", ber).stdout.decode()
    strip = lambda s: re.sub(r"^-- Generated from: .*$", "", s, flags=re.M)
    if strip(from_ber) == strip(open(mod).read()):
        ok(name + ": the schema of the BER equals the schema of the legacy stream")
    else:
        bad(name + ": the schema of the BER differs from the legacy stream's")
    idx = run(MIGCONV, "schema", "--bodies", ber).stdout.decode().splitlines()
    idxn = run(MIGCONV, "schema", "--bodies", bern).stdout.decode().splitlines()
    if len(idx) != len(idxn):
        bad(name + ": named and --no-names BER have different body counts")
        return 0
    # --no-names: offsets from the nameless BER, types from the named one
    idxn = ["%s %s %s" % (a.split()[0], a.split()[1], b.split()[2])
            for a, b in zip(idxn, idx)]
    if not idx:
        ok(name + ": no device sections")
        return 0
    good, out, n = decode_batch(mod, "MigConvSchema", ber, idx, name + ": named BER bodies")
    if good:
        checked, mism = names_ok(out)
        if mism:
            bad(name + ": decoded names", "; ".join(mism[:5]))
        elif checked == 0:
            bad(name + ": no names were checked")
        else:
            ok("%s: %d named BER bodies decode, %d names match" % (name, n, checked))
    good, out, n = decode_batch(modn, "MigConvSchemaNoNames", bern, idxn,
                                name + ": --no-names BER bodies")
    if good:
        if "UTF8_STR" in out:
            bad(name + ": the --no-names bodies decoded with names")
        else:
            ok("%s: %d --no-names BER bodies decode" % (name, n))
    check_json(fx, base, name)
    return len(idx)


def check_json(fx, base, name):
    try:
        import jsonschema
    except ImportError:
        bad("python3-jsonschema is not installed")
        return
    js = base + ".schema.json"
    run(MIGCONV, "schema", "-q", *targs(fx), "--format", "json-schema", "-o", js, fx)
    schema = json.load(open(js))
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    for kind, path in (("legacy", fx),):
        doc = json.loads(run(MIGCONV, "dump", "-q", *targs(fx), path).stdout)
        errs = list(v.iter_errors(doc))
        if errs:
            bad("%s: dump of the %s stream validates" % (name, kind),
                "%s at %s" % (errs[0].message[:300], list(errs[0].absolute_path)))
        else:
            ok("%s: dump of the %s stream validates against the JSON Schema" % (name, kind))
    if name not in NONAMES_JSON:
        return
    jsn = base + ".nonames.schema.json"
    run(MIGCONV, "schema", "-q", *targs(fx), "--no-names", "--format", "json-schema", "-o", jsn, fx)
    vn = jsonschema.Draft202012Validator(json.load(open(jsn)))
    doc = json.loads(run(MIGCONV, "dump", "-q", base + ".nonames.ber").stdout)
    errs = list(vn.iter_errors(doc))
    if errs:
        bad(name + ": dump of the --no-names BER validates",
            "%s at %s" % (errs[0].message[:300], list(errs[0].absolute_path)))
    else:
        ok(name + ": dump of the --no-names BER validates against its JSON Schema")


def negative_controls(fx):
    """Damaged bodies are rejected, yet stay valid generic migconv BER."""
    base = os.path.join(WORK, "neg-" + os.path.basename(fx))
    ber, mod = base + ".ber", base + ".asn"
    run(MIGCONV, "legacy-to-ber", "-q", fx, ber)
    run(MIGCONV, "schema", "-q", "-o", mod, fx)
    data = open(ber, "rb").read()
    idx = run(MIGCONV, "schema", "--bodies", ber).stdout.decode().splitlines()
    # a body whose fields include two adjacent named integers of different
    # wire types, and two adjacent ones of the same type
    found = None
    for line in idx:
        off, length, typ = line.split()
        body = data[int(off):int(off) + int(length)]
        _, cs, e = parse_tlv(body)
        kids = children(body, cs, e)
        if not kids or kids[0][0] != 0x30:
            continue
        fields = children(body, kids[0][2], kids[0][3])
        ints = []
        for (t, s, c, fe) in fields:
            if t != 0x30:
                ints.append(None)
                continue
            parts = children(body, c, fe)
            vt = parts[-1][0]
            ints.append(vt if parts[0][0] == 0x0C and 0x80 <= vt <= 0x87 else None)
        diff = [i for i in range(len(fields) - 1)
                if ints[i] is not None and ints[i + 1] is not None and ints[i] != ints[i + 1]]
        same = [i for i in range(len(fields) - 1)
                if ints[i] is not None and ints[i] == ints[i + 1]]
        if diff and same:
            found = (typ, body, kids, fields, ints, diff[0], same[0])
            break
    if not found:
        bad(os.path.basename(fx) + ": negative control: no suitable body")
        return
    typ, body, kids, fields, ints, di, si = found
    good, _ = decode_one(mod, "MigConvSchema", typ, body, base + ".orig.der")
    if not good:
        bad("negative control: the undamaged %s body decodes" % typ)
        return
    ok("negative control: the undamaged %s body decodes" % typ)

    def rebuild(new_fields):
        fl = tlv(0x30, b"".join(new_fields))
        rest = b"".join(body[s:e] for (t, s, c, e) in kids[1:])
        return tlv(0x30, fl + rest)

    raw = [body[s:e] for (t, s, c, e) in fields]
    damages = []
    # 1. renamed: one letter of a field's name changed, same length
    t, s, c, fe = fields[si]
    parts = children(body, c, fe)
    nm = bytearray(body[parts[0][2]:parts[0][3]])
    nm[0] = ord("q") if nm[0] != ord("q") else ord("z")
    renamed = list(raw)
    renamed[si] = tlv(0x30, tlv(0x0C, bytes(nm)) + b"".join(
        body[ps:pe] for (pt, ps, pc, pe) in parts[1:]))
    damages.append(("a field renamed", rebuild(renamed), True))
    # 2. widened: an integer's wire type one step wider (u8 -> u16, ...)
    t, s, c, fe = fields[di]
    parts = children(body, c, fe)
    vt, vs, vc, ve = parts[-1]
    wider = {0x80: 0x81, 0x81: 0x82, 0x82: 0x83, 0x84: 0x85, 0x85: 0x86,
             0x86: 0x87, 0x83: 0x82, 0x87: 0x86}[vt]
    widened = list(raw)
    widened[di] = tlv(0x30, b"".join(body[ps:pe] for (pt, ps, pc, pe) in parts[:-1]) +
                      bytes([wider]) + body[vs + 1:ve])
    damages.append(("an integer widened", rebuild(widened), False))
    # 3. swapped: two adjacent fields of different wire types
    swapped = list(raw)
    swapped[di], swapped[di + 1] = swapped[di + 1], swapped[di]
    damages.append(("two fields swapped", rebuild(swapped), False))
    # 4. swapped: two adjacent fields of the same wire type (names differ)
    swapped2 = list(raw)
    swapped2[si], swapped2[si + 1] = swapped2[si + 1], swapped2[si]
    if raw[si] != raw[si + 1]:
        damages.append(("two fields of one type swapped", rebuild(swapped2), True))
    for i, (what, dmg, by_name) in enumerate(damages):
        path = "%s.damage%d.der" % (base, i)
        generic, _ = decode_one(GENERIC, "MigConv", "BodyL", dmg, path)
        if not generic:
            bad("negative control: %s is still generic migconv BER" % what)
            continue
        good, out = decode_one(mod, "MigConvSchema", typ, dmg, path)
        if good and by_name:
            checked, mism = names_ok(out)
            good = not mism
        if good:
            bad("negative control: %s is rejected (%s)" % (what, typ))
        else:
            ok("negative control: %s is rejected (%s%s)" % (
                what, typ, ", by its name" if by_name else ", by asn1Decoding"))
    # a damaged dump does not validate
    try:
        import jsonschema
    except ImportError:
        return
    js = base + ".schema.json"
    run(MIGCONV, "schema", "-q", "--format", "json-schema", "-o", js, fx)
    v = jsonschema.Draft202012Validator(json.load(open(js)))
    doc = json.loads(run(MIGCONV, "dump", "-q", fx).stdout)
    dev = [it for it in doc["items"] if it.get("kind") == "vmstate" and it.get("fields")]
    f0 = dev[0]["fields"][0]
    for what, change in (("a renamed field", lambda f: f.update(name=f.get("name", "") + "x")),
                         ("a removed field", None)):
        d = json.loads(json.dumps(doc))
        dd = [it for it in d["items"] if it.get("kind") == "vmstate" and it.get("fields")][0]
        if change:
            change(dd["fields"][0])
        else:
            del dd["fields"][0]
        if list(v.iter_errors(d)):
            ok("negative control: a dump with %s does not validate" % what)
        else:
            bad("negative control: a dump with %s does not validate" % what)


def cli_checks():
    """Usage errors, wrong inputs, and the committed example."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    bare = os.path.join(FIXTURES, "pc-bare.mig")
    for what, args, code in (
            ("no input", [], 2),
            ("an unknown format", ["--format", "xml", bare], 2),
            ("--qemu-version without --builtin", ["--qemu-version", "7.2", bare], 2),
            ("built-in tables of an unknown QEMU", ["--builtin", "--qemu-version", "1.0"], 2),
            ("--bodies of a legacy stream", ["--bodies", bare], 1),
            ("--bodies of stdin", ["--bodies", "-"], 2),
            ("a file that is no stream", [os.path.join(top, "README.md")], 1)):
        p = run(MIGCONV, "schema", *args, check=False)
        err = p.stderr.decode(errors="replace")
        lines = err.splitlines()
        # one error line; usage errors add the "Try ... --help" hint
        if (p.returncode == code and p.stdout == b"" and lines and
                lines[0].startswith("migconv") and
                len(lines) == (2 if code == 2 else 1)):
            ok("schema with %s: exit %d, one error line" % (what, code))
        else:
            bad("schema with %s: exit %d, one error line" % (what, code),
                "exit %d: %s" % (p.returncode, err))
    p = run(MIGCONV, "schema", "--builtin")
    path = os.path.join(WORK, "builtin.asn")
    open(path, "wb").write(p.stdout)
    q = run("asn1Parser", "-c", path, check=False)
    n = p.stdout.count(b"::=")
    if q.returncode == 0 and n > 100:
        ok("schema --builtin: %d types, compiles with asn1Parser" % n)
    else:
        bad("schema --builtin compiles", q.stderr.decode(errors="replace"))
    example = os.path.join(top, "examples", "pc-bare.asn")
    ex_ber = os.path.join(top, "examples", "pc-bare.ber")
    got = run(MIGCONV, "schema", ex_ber).stdout
    if open(example, "rb").read() == got:
        ok("examples/pc-bare.asn is the schema of examples/pc-bare.ber")
    else:
        bad("examples/pc-bare.asn is the schema of examples/pc-bare.ber")


def diff_lines(a, b):
    p = run(MIGCONV, "schema", "--diff", a, b, check=False)
    if p.returncode not in (0, 1):
        raise RuntimeError("schema --diff %s %s: exit %d: %s" % (
            a, b, p.returncode, p.stderr.decode(errors="replace")))
    return p.returncode, p.stdout.decode().splitlines()


def expect_diff(what, a, b, want, unwanted=()):
    code, lines = diff_lines(a, b)
    missing = [w for w in want if w not in lines]
    extra = [l for l in lines for u in unwanted if re.search(u, l)]
    if code == 1 and not missing and not extra:
        ok("schema --diff %s: exit 1, %d lines, the expected ones among them" % (what, len(lines)))
    else:
        bad("schema --diff " + what, "exit %d; missing %s; unexpected %s" % (code, missing, extra[:5]))


def table_oracle(top):
    """What schema --diff builtin:7.2 builtin:11.1 must say, computed from
    the tables files alone: devices only on one side, and for devices with
    one layout of the same version on both sides, the subsections added
    and removed."""
    t = {}
    for v in ("7.2", "11.1"):
        with open(os.path.join(top, "src", "desc", "tables-qemu-%s-x86.json" % v)) as f:
            t[v] = json.load(f)["vmsds"]
    a, b = t["7.2"], t["11.1"]
    want = set()
    subs_of = {}
    for side, mine, other in (("A", a, b), ("B", b, a)):
        for name, vers in mine.items():
            for e in vers.values():
                for sub in e["subsections"]:
                    subs_of.setdefault(side, set()).add(sub)
    for side, mine, other in (("A", a, b), ("B", b, a)):
        for name, vers in mine.items():
            if name in other:
                continue
            v = max(int(k) for k in vers)
            is_sub = name in subs_of.get(side, ())
            want.add("%s: only in %s (version %d%s)" % (
                name, side, v, ", a subsection" if is_sub else ""))
    for name in sorted(set(a) & set(b)):
        va, vb = max(a[name], key=int), max(b[name], key=int)
        ea, eb = a[name][va], b[name][vb]
        if va != vb or len(ea["variants"]) != 1 or len(eb["variants"]) != 1:
            continue
        for sub in ea["subsections"]:
            if sub not in eb["subsections"]:
                want.add("%s: subsection %s removed" % (name, sub))
        for sub in eb["subsections"]:
            if sub not in ea["subsections"]:
                want.add("%s: subsection %s added" % (name, sub))
    return want


def builtin_checks(top):
    """schema --diff of --builtin --qemu-version 7.2 and 11.1."""
    code, lines = diff_lines("builtin:7.2", "builtin:11.1")
    want = table_oracle(top)
    missing = sorted(want - set(lines))
    if code == 1 and len(want) >= 10 and not missing:
        ok("schema --diff builtin:7.2 builtin:11.1: exit 1, all %d device "
           "and subsection differences the tables imply" % len(want))
    else:
        bad("schema --diff builtin:7.2 builtin:11.1: the tables' differences",
            "exit %d; %d implied, missing %s" % (code, len(want), missing[:8]))
    # field changes read off the tables by hand: globalstate's runstate
    # split (QEMU 8.2), hpet's num_timers_save (QEMU 9.2), AHCI's ports
    # unsigned; the cpuhp subsections of the PM devices (listed by the
    # oracle too); vga's two layouts (vga.c and vga-pci.c both name their
    # vmsd "vga") are the same on both sides
    expect_diff("builtin:7.2 builtin:11.1", "builtin:7.2", "builtin:11.1",
                ["ich9_pm: subsection ich9_pm/cpuhp added",
                 "ich9_pm: subsection ich9_pm/pcihp removed",
                 "ich9_pm/cpuhp: only in B (version 1, a subsection)",
                 "piix4_pm/cpuhp: only in B (version 1, a subsection)",
                 "piix4_pm (layout 4 of A, 1 of B): subsection piix4_pm/cpuhp added",
                 "globalstate: field runstate resized from 100 bytes to 32 bytes",
                 "globalstate: field has_vm_was_suspended added (1 byte, position 3)",
                 "globalstate: field vm_was_suspended added (1 byte, position 4)",
                 "globalstate: field unused added (66 bytes, position 5)",
                 "hpet: field num_timers renamed to num_timers_save",
                 "ahci (layout 1 of A, 1 of B): field ports changed type from int32 to uint32",
                 "kvmclock: only in A (version 1)",
                 "CPU hotplug state: only in B (version 1)"],
                [r"^vga", r"^mc146818rtc", r"^timer: ", r"^(ich9_)?ahci .*field (ahci\.)?dev",
                 r"^globalstate: field size", r"^hpet: field (config|isr|timer)"])
    # the same with the versions swapped: each change the other way round
    expect_diff("builtin:11.1 builtin:7.2", "builtin:11.1", "builtin:7.2",
                ["ich9_pm: subsection ich9_pm/cpuhp removed",
                 "globalstate: field runstate resized from 32 bytes to 100 bytes",
                 "globalstate: field vm_was_suspended removed (1 byte)",
                 "hpet: field num_timers_save renamed to num_timers",
                 "kvmclock: only in B (version 1)"], [r"^vga"])
    # a QEMU 7.2 stream with itself, and a table with itself: nothing
    for what, a in (("a QEMU 7.2 stream", os.path.join(os.path.dirname(FIXTURES), "qemu-7.2", "q35-5.2-devices.mig")),
                    ("QEMU 11.1's built-in tables", "builtin:11.1")):
        code, lines = diff_lines(a, a)
        if code == 0 and not lines:
            ok("schema --diff of %s with itself: exit 0, no output" % what)
        else:
            bad("schema --diff of %s with itself: exit 0, no output" % what,
                "exit %d: %s" % (code, lines[:5]))
    # an ASN.1 module is refused with a reason (exit 1, one line)
    mod = os.path.join(WORK, "builtin.asn")
    p = run(MIGCONV, "schema", "--diff", mod, "builtin:7.2", check=False)
    err = p.stderr.decode(errors="replace").splitlines()
    if p.returncode == 1 and p.stdout == b"" and len(err) == 1 and \
            "an ASN.1 module, which schema --diff cannot read back" in err[0] and \
            "--format json-schema" in err[0]:
        ok("schema --diff of an ASN.1 module: refused with the reason, one line")
    else:
        bad("schema --diff of an ASN.1 module: refused with the reason",
            "exit %d: %s" % (p.returncode, err))


def diff_checks():
    """schema --diff: equal inputs, real version differences, QEMU's
    -dump-vmstate, and hand-made differences of each kind."""
    import gzip
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sfx = os.path.join(top, "tests", "fixtures", "schema")
    bare = os.path.join(FIXTURES, "pc-bare.mig")
    bare_ber = os.path.join(WORK, "pc-bare.mig.ber")
    vm72 = os.path.join(WORK, "dump-vmstate-7.2-pc.json")
    vm111 = os.path.join(WORK, "dump-vmstate-11.1-pc.json")
    for gz, out in (("dump-vmstate-7.2-pc.json.gz", vm72), ("dump-vmstate-11.1-pc.json.gz", vm111)):
        with gzip.open(os.path.join(sfx, gz)) as f, open(out, "wb") as o:
            o.write(f.read())
    for what, a, b in (("of a stream with itself", bare, bare),
                       ("of a stream and its BER", bare, bare_ber),
                       ("of QEMU 7.2's -dump-vmstate with itself", vm72, vm72),
                       ("of the built-in tables with themselves", "builtin:7.2", "builtin:7.2")):
        code, lines = diff_lines(a, b)
        if code == 0 and not lines:
            ok("schema --diff %s: exit 0, no output" % what)
        else:
            bad("schema --diff %s: exit 0, no output" % what, "exit %d: %s" % (code, lines[:5]))
    # a JSON Schema written by schema, read back, describes the same devices
    for fx in ("pc-bare.mig", "q35-devices.mig", "pc-block.mig"):
        js = os.path.join(WORK, fx + ".schema.json")
        code, lines = diff_lines(os.path.join(FIXTURES, fx), js)
        if code == 0 and not lines:
            ok("schema --diff of %s and its JSON Schema: exit 0, no output" % fx)
        else:
            bad("schema --diff of %s and its JSON Schema: exit 0, no output" % fx,
                "exit %d: %s" % (code, lines[:5]))
    bjs = os.path.join(WORK, "builtin.schema.json")
    run(MIGCONV, "schema", "-q", "--builtin", "--format", "json-schema", "-o", bjs)
    t111 = os.path.join(sfx, "tables-qemu-11.1-x86.json")
    if diff_lines("builtin:7.2", t111) == diff_lines(bjs, t111):
        ok("schema --diff: the built-in tables' JSON Schema gives the same "
           "differences as the tables")
    else:
        bad("schema --diff: the built-in tables' JSON Schema gives the same "
            "differences as the tables")
    # QEMU 7.2 (built-in tables) against QEMU 11.1 (tables of its streams)
    expect_diff("of QEMU 7.2's and 11.1's tables", "builtin:7.2",
                os.path.join(sfx, "tables-qemu-11.1-x86.json"),
                ["ich9_pm: subsection ich9_pm/cpuhp added",
                 "piix4_pm (layout 1 of A, 1 of B): subsection piix4_pm/cpuhp added",
                 "globalstate: field runstate resized from 100 bytes to 32 bytes",
                 "globalstate: field vm_was_suspended added (1 byte, position 4)",
                 "hpet: field num_timers renamed to num_timers_save"],
                [r"^mc146818rtc: ", r"^timer: "])
    # the built-in tables of QEMU 7.2 and 11.1: the lines the tables
    # themselves imply (read off src/desc/tables-qemu-*-x86.json here),
    # and specific field changes checked by hand in those tables
    builtin_checks(top)
    # a real -dump-vmstate of QEMU 7.2 against a stream of QEMU 7.2: the
    # same fields; the dump lists subsections the stream did not need
    expect_diff("of QEMU 7.2's -dump-vmstate and a QEMU 7.2 stream", vm72, bare,
                ["mc146818rtc: subsection mc146818rtc/irq_reinject_on_ack_count removed"],
                [r"resized", r"renamed", r"changed type", r"^mc146818rtc: field"])
    expect_diff("of QEMU 7.2's and 11.1's -dump-vmstate", vm72, vm111,
                ["acpi-ged: subsection acpi-ged/cpuhp added"], [r"^mc146818rtc: "])
    # one change of each kind, made by hand in the 7.2 dump
    d = json.load(open(vm72))
    rtc = d["mc146818rtc"]["Description"]
    fields = rtc["Fields"]
    names = [f["field"] for f in fields]
    fields[names.index("cmos_index")]["field"] = "cmos_idx"
    fields[names.index("period")]["size"] = 8
    i = names.index("base_rtc")
    fields[i], fields[i + 1] = fields[i + 1], fields[i]
    del fields[names.index("update_timer")]
    fields.append({"field": "extra", "version_id": 4, "field_exists": False, "size": 2})
    rtc["version_id"] = 4
    rtc["Subsections"] = []
    damaged = os.path.join(WORK, "dump-vmstate-damaged.json")
    json.dump(d, open(damaged, "w"))
    code, lines = diff_lines(vm72, damaged)
    want = {"mc146818rtc: version 3 changed to 4",
            "mc146818rtc: field cmos_index renamed to cmos_idx",
            "mc146818rtc: field period resized from 4 bytes to 8 bytes",
            "mc146818rtc: field update_timer removed (8 bytes)",
            "mc146818rtc: field extra added (2 bytes, position 13)",
            "mc146818rtc: subsection mc146818rtc/irq_reinject_on_ack_count removed",
            "mc146818rtc/irq_reinject_on_ack_count: only in A (version 1, a subsection)"}
    moved = [l for l in lines if l.startswith("mc146818rtc: field ") and "reordered" in l]
    rest = set(lines) - want - set(moved)
    if code == 1 and want <= set(lines) and len(moved) == 1 and not rest:
        ok("schema --diff of a hand-changed vmsd: version, rename, resize, "
           "removal, addition, reorder and subsection each reported, nothing else")
    else:
        bad("schema --diff of a hand-changed vmsd",
            "exit %d; missing %s; moved %s; other %s" % (code, want - set(lines), moved, rest))


def main():
    global WORK
    os.makedirs(WORK_PARENT, exist_ok=True)
    WORK = tempfile.mkdtemp(prefix="schema-", dir=WORK_PARENT)
    cli_checks()
    # tests/fixtures/streams, then each QEMU version's directory beside it
    dirs = [FIXTURES] + sorted(
        os.path.join(os.path.dirname(FIXTURES), d)
        for d in os.listdir(os.path.dirname(FIXTURES)) if d.startswith("qemu-"))
    fixtures = []
    for d in dirs:
        if d != FIXTURES:
            version_tables(d)
        fixtures += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".mig"))
    total = 0
    for fx in fixtures:
        try:
            total += check_fixture(fx)
        except RuntimeError as e:
            bad(label(fx), str(e))
    print("%d bodies in %d fixtures" % (total, len(fixtures)))
    try:
        diff_checks()
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        bad("schema --diff", str(e))
    neg = os.path.join(FIXTURES, "pc-bare.mig")
    try:
        negative_controls(neg)
    except RuntimeError as e:
        bad("negative controls", str(e))
    print("%d passed, %d failed" % (passes, len(failures)))
    if failures:
        print("work files kept in " + WORK)
        return 1
    shutil.rmtree(WORK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
