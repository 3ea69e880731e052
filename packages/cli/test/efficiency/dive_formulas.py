#!/usr/bin/env python3
"""dive's five numbers for the first image of a `docker save` archive, computed independently of
strata (Python's tarfile, naive nested-dict trees, a fresh stack of the lower layers for every
whiteout), straight from the formulas of dive's filetree/efficiency.go and image/analysis.go:

- each layer is a tree of its entries (parents implied, `.wh..wh.*` names dropped); visit its leaves;
- a leaf `.wh.X` stands for X: if X is a directory in the layers below (stacked), it counts the
  sizes of everything under it, otherwise 0; any other leaf counts its tar size;
- per path: cumulative = sum, min = smallest; efficiency = sum(min) / sum(cumulative);
- wasted = sum of cumulative over paths seen in >= 2 layers; user size = all layers but the first.
Prints JSON: efficiency, sizeBytes, userSizeBytes, wastedBytes, wastedUserPercent, fileReference.
"""
import copy, json, sys, tarfile

def new_node(info=None):
    return {"info": info or {"size": 0, "dir": False}, "kids": {}}

def add(tree, path, info):
    parts = [p for p in path.strip("/").split("/") if p]
    node = tree
    for i, name in enumerate(parts):
        if name not in node["kids"]:
            if name.startswith(".wh..wh."):
                return
            node["kids"][name] = new_node()
        node = node["kids"][name]
        if i == len(parts) - 1:
            node["info"] = info

def find(tree, path):
    node = tree
    for name in [p for p in path.strip("/").split("/") if p]:
        if name not in node["kids"]:
            return None
        node = node["kids"][name]
    return node

def remove(tree, path):
    parts = [p for p in path.strip("/").split("/") if p]
    parent = find(tree, "/".join(parts[:-1]))
    if parent is not None:
        parent["kids"].pop(parts[-1], None)

def walk(node, prefix=""):
    """(path, node) children first, by name, as dive's VisitDepthChildFirst."""
    for name in sorted(node["kids"], key=lambda s: s.encode()):
        child = node["kids"][name]
        path = prefix + "/" + name
        yield from walk(child, path)
        yield path, child

def stack(lower, upper):
    for path, node in walk(upper):
        name = path.rsplit("/", 1)[1]
        if name.startswith(".wh."):
            remove(lower, path.rsplit("/", 1)[0] + "/" + name[4:])
        else:
            add(lower, path, dict(node["info"]))

def subtree_size(node):
    return node["info"]["size"] + sum(subtree_size(k) for k in node["kids"].values())

def main(archive):
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))[0]
        trees, sizes = [], []
        for name in manifest["Layers"]:
            tree, total = new_node({"size": 0, "dir": True}), 0
            with tarfile.open(fileobj=outer.extractfile(name)) as layer:
                for m in layer.getmembers():
                    total += m.size
                    path = m.name.rstrip("/")
                    if path in ("", "."):
                        continue
                    add(tree, path, {"size": m.size, "dir": m.isdir()})
            trees.append(tree)
            sizes.append(total)
    data, order = {}, []
    for i, tree in enumerate(trees):
        below = copy.deepcopy(trees[0])
        for t in trees[:i]:
            stack(below, t)
        for path, node in walk(tree):
            if node["kids"]:
                continue
            d, name = path.rsplit("/", 1)
            if name.startswith(".wh."):
                path = d + "/" + name[4:]
                prev = find(below, path)
                if prev is None:
                    raise SystemExit(f"whiteout of {path} with nothing below: not covered here")
                size = subtree_size(prev) if prev["info"]["dir"] else 0
            else:
                size = node["info"]["size"]
            e = data.setdefault(path, {"cum": 0, "min": None, "count": 0})
            e["cum"] += size
            e["min"] = size if e["min"] is None else min(e["min"], size)
            e["count"] += 1
            if e["count"] == 2:
                order.append(path)
    cum = sum(e["cum"] for e in data.values())
    mins = sum(e["min"] for e in data.values())
    wasted = sum(data[p]["cum"] for p in order)
    user = sum(sizes[1:])
    ranked = sorted(enumerate(order), key=lambda x: (data[x[1]]["cum"], x[0]))[::-1]
    print(json.dumps({
        "efficiency": 1.0 if cum == 0 else mins / cum,
        "sizeBytes": sum(sizes),
        "userSizeBytes": user,
        "wastedBytes": wasted,
        "wastedUserPercent": wasted / user if user else None,
        "fileReference": [[data[p]["count"], data[p]["cum"], p] for _, p in ranked],
    }))

main(sys.argv[1])
