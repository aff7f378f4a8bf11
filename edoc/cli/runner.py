"""Running the app, and the one place that turns errors into exit codes and messages."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from edoc.cli import state as cli_state
from edoc.errors import EdocError, exit_code_for


def run(argv: list[str]) -> int:
    """Run ``edoc`` with ``argv``; return the process exit code."""
    argv = cli_state.hoist_global_options(argv)
    debug = "--debug" in argv
    cx = _click_exceptions()
    try:
        from edoc.cli.app import app

        result = app(args=argv, prog_name="edoc", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except cx.Exit as exc:
        return int(exc.exit_code)
    except cx.Abort:
        _say("aborted", "ยกเลิกแล้ว")
        return 130
    except cx.ClickException as exc:
        # usage errors: bad option, missing argument, bad choice
        exc.show(file=sys.stderr)
        return 2 if isinstance(exc, cx.UsageError) else int(exc.exit_code)
    except EdocError as exc:
        if debug:
            traceback.print_exc()
        print(f"edoc: {exc.message(_lang())}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        _say("interrupted", "ถูกขัดจังหวะ")
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: one line, never a bare traceback
        if debug:
            traceback.print_exc()
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = type(exc).__name__
        if _lang() == "th":
            print(f"edoc: เกิดข้อผิดพลาดภายใน ({what}): {detail} (ใช้ --debug เพื่อดูรายละเอียด)", file=sys.stderr)
        else:
            print(f"edoc: internal error ({what}): {detail} (run with --debug for details)", file=sys.stderr)
        return exit_code_for(exc)


class _Exceptions:
    """typer >= 0.22 vendors click as ``typer._click``; older typer uses click itself."""

    def __init__(self) -> None:
        import typer

        try:
            from typer._click import exceptions
        except ImportError:  # pragma: no cover - older typer
            from click import exceptions  # type: ignore[no-redef]
        self.Exit = typer.Exit
        self.Abort = typer.Abort
        self.ClickException = exceptions.ClickException
        self.UsageError = exceptions.UsageError


def _click_exceptions() -> Any:
    return _Exceptions()


def _lang() -> str:
    st = cli_state.current()
    if st is not None:
        return st.lang
    from edoc.i18n import default_lang

    return default_lang()


def _say(en: str, th: str) -> None:
    print(f"edoc: {th if _lang() == 'th' else en}", file=sys.stderr)
