#!/usr/bin/env python3
"""Compact QEMU -dump-vmstate JSON files into migconv's built-in vmstate
descriptions (src/desc/vmstate-qemu-V-TARGET.json).

Usage: compact-vmstate.py VERSION OUT DUMP.json [DUMP.json ...]

Every vmsd of the dumps (devices, nested structs, subsections) becomes one
entry of "vmsd", keyed by its name; a name with several different
descriptions keeps each (sorted).  An entry is
  {"v": version_id, "m": minimum_version_id,
   "f": [[field, size, version_id, exists, num, struct], ...],
   "s": [subsection names]}
where exists is 1 when the field has a field_exists test (QEMU loads it
only when the test says so, whatever the version), num the array length
(-1 when the dump has none: QEMU before 8.1 does not write it) and struct
the name of the field's nested vmsd (null for none).
"""
import json
import sys


def walk(desc, out):
    name = desc["name"]
    fields = []
    for f in desc.get("Fields", []):
        sub = f.get("Description")
        if sub is not None:
            walk(sub, out)
        fields.append([f["field"], f.get("size", 0), f.get("version_id", 0),
                       1 if f.get("field_exists") else 0, f.get("num", -1),
                       sub["name"] if sub is not None else None])
    subs = []
    for s in desc.get("Subsections", []):
        walk(s, out)
        subs.append(s["name"])
    entry = {"v": desc["version_id"], "m": desc.get("minimum_version_id", 0),
             "f": fields, "s": subs}
    key = json.dumps(entry, sort_keys=True)
    out.setdefault(name, {})[key] = entry


def main():
    version, outpath, dumps = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = {}
    for path in dumps:
        with open(path) as fp:
            d = json.load(fp)
        for k, v in d.items():
            if k == "vmschkmachine":
                continue
            walk(v["Description"], out)
    vmsd = {n: [e for _, e in sorted(variants.items())]
            for n, variants in sorted(out.items())}
    with open(outpath, "w") as fp:
        json.dump({"qemu": version, "vmsd": vmsd}, fp, sort_keys=True,
                  separators=(",", ":"))
        fp.write("\n")


if __name__ == "__main__":
    main()
