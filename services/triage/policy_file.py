"""Reading the policy file: TOML, validated into a Policy, or refused with reasons."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from services.triage.policy import Policy

DEFAULT = Path(__file__).parent / "policy.toml"


class PolicyFileError(ValueError):
    pass


def load_policy(path: Path = DEFAULT) -> Policy:
    try:
        return Policy.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise PolicyFileError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'policy'}: {e['msg']}"
            for e in exc.errors()
        )
        raise PolicyFileError(f"{path}: {reasons}") from None
