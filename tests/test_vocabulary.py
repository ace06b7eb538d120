"""One name per concept (docs/glossary.md): no public signature or result field uses a retired synonym."""

import dataclasses
import importlib
import inspect
import pkgutil

import pytest

import sigdist

# synonym -> the glossary's name for the concept
RETIRED = {
    "d": "width", "n": "width", "input": "y0 or x0", "inputs": "x0", "x1_sq": "y1", "x2_sq": "y2", "dot": "y12",
    "norm1": "y1", "norm2": "y2", "d1_sq": "y1", "d2_sq": "y2", "d_dot": "y12", "n_samples": "n_networks",
    "n_particles": "n_networks", "n_chains": "n_networks", "standard_error": "<quantity>_se",
    "input_norm": "y0", "obj": "network",
}


def _public_modules():
    names = ["sigdist"]
    for info in pkgutil.walk_packages(sigdist.__path__, "sigdist."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]) and info.name not in ("sigdist.cli",):
            names.append(info.name)
    out = []
    for name in names:
        try:
            out.append(importlib.import_module(name))
        except ImportError:  # a torch-only module without torch
            continue
    return out


def _public_callables():
    seen = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name, None)
            except ImportError:  # a torch-only name without torch
                continue
            if obj is None or id(obj) in seen:
                continue
            if inspect.isfunction(obj):
                seen[id(obj)] = (f"{module.__name__}.{name}", obj)
            elif inspect.isclass(obj):
                seen[id(obj)] = (f"{module.__name__}.{name}", obj)
                for attr, member in vars(obj).items():
                    if (inspect.isfunction(member) or isinstance(member, classmethod)) and not attr.startswith("_"):
                        func = member.__func__ if isinstance(member, classmethod) else member
                        seen[id(func)] = (f"{module.__name__}.{name}.{attr}", func)
                if "__init__" in vars(obj) and inspect.isfunction(vars(obj)["__init__"]):
                    seen[id(vars(obj)["__init__"])] = (f"{module.__name__}.{name}", vars(obj)["__init__"])
    return sorted(seen.values(), key=lambda item: item[0])


CALLABLES = _public_callables()


def test_there_is_a_public_surface_to_check():
    assert len(CALLABLES) > 100


@pytest.mark.parametrize("qualname, obj", CALLABLES, ids=[q for q, _ in CALLABLES])
def test_public_names_follow_the_glossary(qualname, obj):
    bad = []
    if inspect.isclass(obj):
        if dataclasses.is_dataclass(obj):
            bad += [f"field {f.name} (use {RETIRED[f.name]})" for f in dataclasses.fields(obj) if f.name in RETIRED]
            bad += [f"field {f.name} (standard errors are <quantity>_se)" for f in dataclasses.fields(obj)
                    if f.name.startswith("se_") or f.name == "se"]
    else:
        try:
            params = inspect.signature(obj).parameters
        except (TypeError, ValueError):
            return
        bad += [f"parameter {p} (use {RETIRED[p]})" for p in params if p in RETIRED]
        if "random_state" in params and not qualname.endswith(".rvs"):
            bad.append("parameter random_state (seed, except in Law.rvs)")
    assert not bad, f"{qualname}: " + ", ".join(bad)
