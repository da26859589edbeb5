"""Job files: YAML loading with limits, --set overrides, paths, and one-line
error messages that name the file and the dotted key."""

from __future__ import annotations

import difflib
import functools
import os
import sys
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from .config import JobConfig
from .errors import ConfigError, short_key as _short, show_value as _show
from .scene import registry

MAX_CONFIG_BYTES = 1 << 20   # a job file is small; refuse anything bigger
MAX_YAML_NODES = 100_000     # YAML nodes after expanding aliases (stops "billion laughs" documents)


# Every character str.splitlines() breaks at: a message must stay on one line, even when a
# file name or a key contains one of them.
_LINE_BREAKS = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


def _one_line_errors(fn):
    """ConfigError messages of ``fn`` are kept on one line (line breaks are shown escaped)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            msg = exc.message.translate(_LINE_BREAKS)
            if msg == exc.message:
                raise
            raise ConfigError(msg) from None

    return wrapper


def _kind_models(annotation) -> dict:
    """{kind: model} of a union of models discriminated by ``kind`` (the scene section), else {}."""
    args = getattr(annotation, "__args__", ())
    models = {}
    for a in args:
        if isinstance(a, type) and issubclass(a, BaseModel) and "kind" in a.model_fields:
            tag = getattr(a.model_fields["kind"].annotation, "__args__", (None,))[0]
            models[tag] = a
    return models if len(models) == len(args) and models else {}


def _section(annotation, kind: str | None = None):
    """The model class of a field that is a section (X or Optional[X], or the member of a
    union discriminated by ``kind``), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    models = _kind_models(annotation)
    if models:
        return models.get(kind or registry.DEFAULT_KIND)
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _model_at(parts, schema: type[BaseModel] = None):
    """The model class at a dotted path of the schema, or None if the path is not a section.
    A union discriminated by ``kind`` is entered through a part naming the kind."""
    model = schema or JobConfig
    parts = list(parts)
    while parts:
        part = parts.pop(0)
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        models = _kind_models(field.annotation)
        if models and parts and parts[0] in models:
            model = models[parts.pop(0)]
            continue
        model = _section(field.annotation)
        if model is None:
            return None
    return model


def _strip_kind_tags(loc: tuple) -> tuple:
    """Drop the kind tag pydantic puts in an error location inside the scene union."""
    out, model = [], JobConfig
    parts = list(loc)
    while parts:
        part = parts.pop(0)
        out.append(part)
        field = model.model_fields.get(part) if model is not None and isinstance(part, str) else None
        if field is None:
            model = None
            continue
        models = _kind_models(field.annotation)
        if models and parts and parts[0] in models:
            model = models[parts.pop(0)]
        else:
            model = _section(field.annotation)
    return tuple(out)


def _other_kinds_key(loc: tuple, data_kind) -> str | None:
    """The kind an unknown scene key belongs to, if another registered kind has it."""
    if len(loc) != 2 or loc[0] != "scene":
        return None
    for name, spec in registry.kinds().items():
        if name != data_kind and loc[1] in spec.config.model_fields:
            return name
    return None


def _unknown_key(key, model) -> str:
    msg = "unknown key"
    if model is not None:
        close = difflib.get_close_matches(str(key), list(model.model_fields), n=1)
        if close:
            msg += f" (did you mean {close[0]!r}?)"
        else:
            msg += f" (expected one of: {', '.join(model.model_fields)})"
    return msg


_MSG_PREFIXES = ("Value error, ", "Assertion failed, ")


def _format_error(path: str, err: dict, overrides=()) -> str:
    """One ValidationError entry as '<file or --set>: <dotted.key>: <what is wrong>'."""
    raw_loc = tuple(p for p in err.get("loc", ()) if not str(p).startswith("function-"))
    loc = _strip_kind_tags(raw_loc)
    tag = raw_loc[1] if len(raw_loc) > 1 and raw_loc[:1] == ("scene",) and len(raw_loc) != len(loc) else None
    key = ".".join(str(p) for p in loc)
    full_key = key
    key = _short(key)
    kind = err.get("type", "")
    msg = str(err.get("msg", "invalid"))
    for prefix in _MSG_PREFIXES:
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if kind == "extra_forbidden" and tag is not None and _other_kinds_key(loc, tag):
        msg = f"{loc[-1]} does not apply to kind: {tag}"
        key = full_key = "scene"
    elif kind == "extra_forbidden":
        msg = _unknown_key(loc[-1] if loc else "", _model_at(raw_loc[:-1]))
    elif kind == "union_tag_invalid":
        key = full_key = f"{key}.kind" if key else "kind"
        known = ", ".join(sorted(registry.kinds()))
        msg = f"unknown kind {_show(err.get('ctx', {}).get('tag'))} (known: {known})"
    elif kind == "missing" and loc and isinstance(loc[-1], int):   # a short list for a tuple
        key = full_key = ".".join(str(p) for p in loc[:-1])
        msg = f"too few values (no item {loc[-1]}), got {_show(err.get('input'))}"
    elif kind == "missing":
        msg = "required key is missing"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        msg = f"must be a mapping of keys, got {_show(err.get('input'))}"
    elif kind == "invalid_key":
        msg = f"keys must be strings, got {_show(err.get('input'))}"
    elif kind != "value_error" and "input" in err:
        msg = f"{msg}, got {_show(err['input'])}"
    # A key that came from --set is reported as such, not as the job file's.
    where = path
    for okey in overrides:
        if full_key and (full_key == okey or full_key.startswith(okey + ".") or okey.startswith(full_key + ".")):
            where = "--set"
            break
    msg = " ".join(msg.split())
    if where == "--set":
        return f"--set {key}: {msg}"
    return f"{where}: {key}: {msg}" if key else f"{where}: {msg}"


def _expanded_nodes(node, memo: dict, active: set) -> int:
    """Nodes of a composed YAML document with every alias expanded (aliases share node objects)."""
    nid = id(node)
    if nid in memo:
        return memo[nid]
    if nid in active:
        raise ConfigError("recursive YAML alias (an anchor used inside itself)")
    total = 1
    if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
        active.add(nid)
        for child in node.value:
            items = child if isinstance(child, tuple) else (child,)
            for item in items:
                total += _expanded_nodes(item, memo, active)
                if total > MAX_YAML_NODES:
                    raise ConfigError(f"more than {MAX_YAML_NODES} values once YAML aliases are expanded")
        active.discard(nid)
    memo[nid] = total
    return total


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader whose constructors report a value they cannot build (a 5,000-digit
    integer, the date 2001-13-45, ``!!int abc``, ``!!bool maybe``) as a YAML error at its
    line, instead of raising ValueError, KeyError or AttributeError."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else None
            if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
                problem = (f"integer {_show(value)} has more than {sys.get_int_max_str_digits()} digits")
            else:
                problem = f"cannot read {_show(value) + ' ' if value is not None else ''}as {tag}"
                detail = " ".join(str(exc).split())
                if detail:
                    problem += f": {detail}"
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


def _safe_yaml(text: str):
    """yaml.safe_load, refusing alias bombs and recursive aliases (ConfigError without a location)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_nodes(node, {}, set())
        try:
            return loader.construct_document(node)
        except (yaml.YAMLError, RecursionError, MemoryError, ConfigError):
            raise
        except Exception as exc:                   # a safety net: any other constructor failure
            raise yaml.constructor.ConstructorError(None, None, " ".join(str(exc).split()) or
                                                    exc.__class__.__name__, None) from None
    finally:
        loader.dispose()


def _read_yaml(path: Path) -> dict:
    try:
        exists, is_file = path.exists(), path.is_file()
    except (OSError, ValueError) as exc:           # a name too long, ...
        raise ConfigError(f"{path}: cannot read job file "
                          f"({getattr(exc, 'strerror', None) or ' '.join(str(exc).split())})")
    if not exists:
        raise ConfigError(f"{path}: job file not found")
    if not is_file:
        raise ConfigError(f"{path}: not a file")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: job file is {size} bytes, more than the {MAX_CONFIG_BYTES} allowed")
        text = path.read_text(encoding="utf-8-sig")
    except ConfigError:
        raise
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read job file (not UTF-8 text: {exc.reason} at byte {exc.start})")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read job file ({exc.strerror or exc.__class__.__name__})")
    if not text.strip():
        raise ConfigError(f"{path}: job file is empty")
    try:
        data = _safe_yaml(text)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}")
    except yaml.reader.ReaderError as exc:          # a control character, e.g. a NUL byte
        line = text.count("\n", 0, max(0, exc.position)) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
        raise ConfigError(f"{path}:{line}: invalid YAML (character {char!r} is not allowed in YAML text)")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "invalid YAML"
        raise ConfigError(f"{where}: invalid YAML ({' '.join(str(problem).split())})")
    except RecursionError:
        raise ConfigError(f"{path}: YAML nested too deeply")
    if data is None:
        raise ConfigError(f"{path}: job file has no keys (only comments or null)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a job file must be a mapping of keys, got a {type(data).__name__}")
    return data


def _parse_value(text: str):
    try:
        return _safe_yaml(text)
    except yaml.YAMLError:
        return text
    except RecursionError:
        raise ConfigError("nested too deeply")


def _split_override(assignment: str) -> tuple[str, list[str], str]:
    if "=" not in assignment:
        raise ConfigError(f"--set {_short(assignment.strip())}: expected KEY=VALUE, e.g. --set optimize.iterations=500")
    key, _, raw = assignment.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not key or not all(p.strip() == p and p for p in parts):
        raise ConfigError(f"--set {_short(key) if key else _show(assignment)}: expected a dotted key such as "
                          f"optimize.iterations")
    return key, parts, raw


@_one_line_errors
def apply_override(data: dict, assignment: str, schema: type[BaseModel] | None = None) -> str:
    """Apply one ``dotted.key=value`` (value parsed as YAML) to a raw job mapping; returns the key.

    The key is checked against ``schema`` (default: the job schema): unknown keys
    and keys under a value that is not a section are refused, naming the key.
    """
    key, parts, raw = _split_override(assignment)
    model = schema or JobConfig
    leaf = None
    node = data
    others = ()
    for i, part in enumerate(parts):
        if model is None:
            raise ConfigError(f"--set {_short(key)}: {'.'.join(parts[:i])} is a value, not a section with keys")
        field = model.model_fields.get(part)
        for other in (others if field is None else ()):     # a key of another scene kind: validation
            field = other.model_fields.get(part)            # then says it does not apply to this one
            if field is not None:
                break
        if field is None:
            raise ConfigError(f"--set {_short(key)}: {_unknown_key(part, model)}")
        leaf = field.annotation
        node = node.get(part) if isinstance(node, dict) else None
        kind = node.get("kind") if isinstance(node, dict) else None
        models = _kind_models(leaf)
        others = tuple(models.values())
        if models and isinstance(kind, str) and kind not in models:
            model = None if i + 1 == len(parts) else models.get(registry.DEFAULT_KIND)
        else:
            model = _section(leaf, kind if isinstance(kind, str) else None)
    try:
        value = _parse_value(raw)
    except ConfigError as exc:
        raise ConfigError(f"--set {_short(key)}: {exc}")
    if leaf is str and not isinstance(value, str):
        value = raw.strip()  # a string key keeps the text as typed: name=007, image=123
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif not isinstance(child, dict):
            raise ConfigError(f"--set {_short(key)}: {'.'.join(parts[: i + 1])} is not a mapping "
                              f"(it is {_show(child)} in the job file)")
        node = child
    node[parts[-1]] = value
    return key


CORE_PATH_KEYS = ("target.image", "target.images", "target.transforms", "target.reference.mesh",
                  "target.reference.volume")


def path_keys() -> tuple[str, ...]:
    """Keys holding input paths: the core's and each scene kind's (KindSpec.path_keys)."""
    kinds = registry.kinds().values()
    return CORE_PATH_KEYS + tuple(sorted({f"scene.{k}" for spec in kinds for k in spec.path_keys}))


def path_nodes(data, key: str):
    """The (mapping, leaf) pairs a path key names in raw job data: dotted parts walk mappings,
    a ``*`` part walks every item of a list (``scene.lights.*.*.file``)."""
    *parents, leaf = key.split(".")
    nodes = [data]
    for part in parents:
        if part == "*":
            nodes = [item for n in nodes if isinstance(n, list) for item in n]
        else:
            nodes = [n.get(part) for n in nodes if isinstance(n, dict)]
    return [(n, leaf) for n in nodes if isinstance(n, dict) and leaf in n]


def _absolutize(data: dict, key: str, base: Path, where: str) -> None:
    """Make a path key absolute (relative paths are taken from ``base``), so job.yaml works anywhere.

    ``where`` names the source in messages: the job file, or "--set"."""
    who = f"--set {key}" if where == "--set" else f"{where}: {key}"

    def absolute(value):
        if not isinstance(value, str) or not value:
            return value
        if "\0" in value:
            raise ConfigError(f"{who}: {_show(value)} is not a valid path (it contains a NUL character)")
        try:
            p = Path(value).expanduser()
        except (RuntimeError, KeyError, OSError):          # ~nosuchuser, or no home folder at all
            raise ConfigError(f"{who}: cannot expand {_show(value.split('/', 1)[0])} in {_show(value)} "
                              f"(no such user or no home folder)") from None
        p = p if p.is_absolute() else base / p
        try:
            return str(p.resolve())
        except (OSError, RuntimeError, ValueError):        # a symlink loop: the loader reports the file
            return os.path.abspath(p)

    for node, leaf in path_nodes(data, key):
        value = node[leaf]
        node[leaf] = [absolute(v) for v in value] if isinstance(value, list) else absolute(value)


@_one_line_errors
def validate_job(data: dict, path: str | Path = "<job>", overrides: tuple[str, ...] | list[str] = ()) -> JobConfig:
    """Validate a raw job mapping; ConfigError names the file (or --set) and the dotted key."""
    try:
        return JobConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        msg = _format_error(str(path), errors[0], overrides)
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ConfigError(msg)
    except RecursionError:
        raise ConfigError(f"{path}: values nested too deeply")


@_one_line_errors
def load_job(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> tuple[JobConfig, Path]:
    """Load, override and validate a job file. Returns the config and the job file's folder."""
    path = Path(path)
    data = _read_yaml(path)
    keys = []
    paths = path_keys()
    for assignment in overrides:
        key = apply_override(data, assignment)
        keys.append(key)
        if key in paths:  # paths given on the command line are relative to the working directory
            _absolutize(data, key, Path.cwd(), "--set")
    for key in paths:   # paths in the job file are relative to its folder
        if key not in keys:
            _absolutize(data, key, path.resolve().parent, str(path))
    job = validate_job(data, path, keys)
    return job, path.resolve().parent


def resolve_path(base: Path, value: str) -> Path:
    """A path from the job file, relative to the job file's folder."""
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def dump_job(job: JobConfig) -> str:
    """The resolved job as YAML (loads back to the same job): nulls are left out."""
    data = job.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False)
