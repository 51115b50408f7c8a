#!/usr/bin/env python3
"""Instantiates the hand-written corpus templates for every shape in shapes.json.

    tests/corpus/templates/<dialect>/<op>.<ext>  --(shapes.json)-->  tests/corpus/<dialect>/<op>_<d1>x<d2>....<ext>

A template is a complete kernel file in which the shape is written as ${NAME} placeholders (the operator's
params and derived values). Usage: ./generate.py [dialect ...]   (default: every dialect with templates)
"""
import json
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def values_for(spec, shape):
    values = dict(zip(spec["params"], shape))
    for name, expression in spec.get("derived", {}).items():
        values[name] = eval(expression, {"__builtins__": {}}, dict(values))
    return values


def instantiate(template_text, values, template):
    def substitute(match):
        name = match.group(1)
        if name not in values:
            sys.exit(f"{template}: unknown placeholder ${{{name}}} (known: {', '.join(values)})")
        return str(values[name])
    return PLACEHOLDER.sub(substitute, template_text)


def main(dialects):
    operators = {k: v for k, v in json.loads((HERE / "shapes.json").read_text()).items() if not k.startswith("_")}
    dialects = dialects or sorted(p.name for p in (HERE / "templates").iterdir() if p.is_dir())
    for dialect in dialects:
        out_dir = HERE / dialect
        out_dir.mkdir(exist_ok=True)
        for template in sorted((HERE / "templates" / dialect).glob("*.*")):
            op, ext = template.name.split(".", 1)
            if op not in operators:
                sys.exit(f"{template}: operator '{op}' is not in shapes.json")
            spec = operators[op]
            for shape in spec["shapes"]:
                name = f"{op}_{'x'.join(str(d) for d in shape)}.{ext}"
                text = instantiate(template.read_text(), values_for(spec, shape), template)
                (out_dir / name).write_text(text)
                print(f"{dialect}/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
