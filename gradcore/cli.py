"""The command line: `python -m gradcore SUBCOMMAND ...` and the `gradcore` console script.

Exit status: 0 success, 1 an optimisation that did not succeed, 2 bad input (never a traceback).
(About 620 lines: each subcommand's arguments sit beside the code that prints its output, so the two
cannot drift apart; reading a plain command line without argparse is _argv.py's.)
"""

from __future__ import annotations

import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ._argv import plain_args
from ._flags import Usage as _Usage, check_point, full_point as _full_point, parse_assignments
from ._version import __version__
from .errors import GradcoreError, ParseError

if TYPE_CHECKING:  # argparse itself loads only when build_parser runs (see _argv.py)
    import argparse

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_EPILOG = """examples:
  python -m gradcore minimize "x**2+2*x+3"
  python -m gradcore minimize "x**2+2*x+3" --method gd --lr 0.01 --tol 1e-5 --start x=5
  python -m gradcore maximize "-(x**2)+4*x" --json
  python -m gradcore diff "x**2+2*x+3"
  python -m gradcore diff "x^2 + 2xy + cos(x+2y)" --var y
  python -m gradcore grad "x**2 + 2*x*y + 3 + cos(x + 2*y)" --at x=1,y=2
  python -m gradcore check "x**2 + 2*x*y + 3 + cos(x + 2*y)" --at x=1,y=2 --json
  python -m gradcore graph "x**2 + 2*x*y + 3 + cos(x + 2*y)" --at x=1,y=2 --format mermaid
  python -m gradcore trace "x**2 + 2*x*y + 3 + cos(x + 2*y)" --at x=1,y=2
"""


def _json_text(obj: Any) -> str:
    """obj as one line of JSON; the json module loads only when --json asks for it."""
    import json
    return json.dumps(obj)


def _read_formula(text: str):
    from .parse import parse
    return parse(text)


# ---- subcommands --------------------------------------------------------------------------------

def _cmd_diff(args: argparse.Namespace) -> int:
    expr = _read_formula(args.expr)
    names = [args.var] if args.var else list(expr.variables)
    for name in names:
        if name not in expr.variables:
            raise _Usage(f"--var: {name} is not a variable of the expression "
                         f"(it uses {', '.join(expr.variables) or 'no variables'})")
    if args.steps:
        return _print_steps(expr, names, args.json)
    from .check import refuse_many_partials
    refuse_many_partials(expr, len(names), "; ask for one with --var NAME")
    partials = {n: expr.diff(n) for n in names}
    if args.json:
        print(_json_text({"expression": _formula(expr), "variables": list(expr.variables),
                          "partials": {n: _formula(d) for n, d in partials.items()}}))
    else:
        print(f"f = {_formula(expr)}")
        if not names:
            print("f has no variables: every derivative is 0")
        for n, d in partials.items():
            print(f"df/d{n} = {_formula(d)}")
    return EXIT_OK


def _diff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", help="the formula, e.g. \"x**2+2*x+3\"")
    p.add_argument("--var", help="differentiate with respect to this variable only")
    p.add_argument("--steps", action="store_true",
                   help="show the derivation rule by rule (sum rule, product rule, chain rule, ...)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _formula(e) -> str:
    """A formula as the command line shows it: a part used more than once and longer than
    printing.SHARE_THRESHOLD characters is written once, by name, so output stays linear in size."""
    from .printing import to_text
    return to_text(e, shared=True)


def _print_steps(expr, names: list[str], as_json: bool) -> int:
    """diff --steps: one derivation per variable, rule by rule."""
    from .derivation import derivation
    done = [derivation(expr, n) for n in names]
    if as_json:
        print(_json_text({"expression": _formula(expr), "variables": list(expr.variables),
                          "derivations": {d.variable: d.to_dict() for d in done}}))
    else:
        print("\n\n".join(d.text() for d in done)
              or f"f = {_formula(expr)}\nf has no variables: every derivative is 0")
    return EXIT_OK


def _cmd_codegen(args: argparse.Namespace) -> int:
    from .codegen import compile, engine_source
    f = compile(_read_formula(args.expr))
    print(f"# f = {f.expr}")
    for name, local in f.names.items():
        if name != local:
            print(f"# the variable {name} is spelled {local} in this code")
    backend = args.backend or ("numpy" if args.numpy else "math")
    print(engine_source(f.expr, backend), end="")
    if args.hessian:
        print()
        print(engine_source(f.expr, backend, hessian=True), end="")
    return EXIT_OK


def _codegen_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", help="the formula, e.g. \"x**2+2*x*y+cos(x+2*y)\"")
    p.add_argument("--hessian", action="store_true", help="also print the Hessian's code")
    p.add_argument("--numpy", action="store_true", help="print the numpy (array) path instead of the math one")
    p.add_argument("--backend", choices=("math", "numpy", "jax", "torch"), default=None,
                   help="print the code for this engine (jax and torch need not be installed to print it)")


_OPTIMIZE_EXAMPLES = """examples:
  python -m gradcore {cmd} "{expr}"
  python -m gradcore {cmd} "{expr}" --method gd --lr 0.01 --tol 1e-5 --start x=5 --log-every 100
  python -m gradcore {cmd} "{multi}" --starts 10 --seed 1
  python -m gradcore {cmd} "x**2+2*x*y+cos(x+2*y)" --json

exit status: 0 when a {goal} was found; 1 when the search did not succeed (status unbounded,
max_iter, non_finite or saddle); 2 for bad input.
"""


def _optimize_args(p: argparse.ArgumentParser) -> None:
    cmd = p.prog.split()[-1]
    p.epilog = _OPTIMIZE_EXAMPLES.format(
        cmd=cmd, goal="minimum" if cmd == "minimize" else "maximum",
        expr="x**2+2*x+3" if cmd == "minimize" else "-(x**2)+4*x",
        multi="x**4 - 3*x**2 + x" if cmd == "minimize" else "-(x**4) + 3*x**2 - x")
    p.add_argument("expr", help="the formula, e.g. \"x**2+2*x+3\"")
    p.add_argument("--start", metavar="x=5,y=1", action="append",
                   help="starting point (default: every variable at 1; variables not given start at 1); "
                        "a bare number for a formula of one variable; may be repeated")
    p.add_argument("--method", default="bfgs", choices=("bfgs", "newton", "armijo", "gd", "momentum",
                                                         "nesterov", "adam"),
                   help="bfgs (default, with a line search), newton (exact Hessian), armijo (steepest "
                        "descent with a line search), or the fixed-step gd, momentum, nesterov, adam")
    p.add_argument("--lr", type=float, help="learning rate of the fixed-step methods (gd: 0.01, adam: 0.1), "
                                            "or the first trial step of a line search (1)")
    p.add_argument("--tol", type=float, default=1e-6, help="stop when the gradient norm is below this (1e-6)")
    p.add_argument("--max-iter", type=int, help="at most this many updates (10000)")
    p.add_argument("--starts", type=int, default=1,
                   help="run from this many starts (the start, then random points in [-5, 5]) and keep the best")
    p.add_argument("--seed", type=int, help="seed for the random starts (default 0: reproducible)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop after this much wall time (status max_iter, reason timeout)")
    p.add_argument("--verbose", action="store_true",
                   help="also print the test that decided the status, and the raw point")
    p.add_argument("--log-every", type=int, metavar="N",
                   help="print a progress row every N iterations (with --starts, each row names its run)")
    p.add_argument("--exact", action="store_true",
                   help="ask sympy for an exact critical point near the answer (at most 2 s)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quiet", action="store_true", help="print only the one-line answer")
    p.add_argument("--plot", metavar="FILE",
                   help="also draw the search into FILE (.png, .svg or .pdf; needs matplotlib): the curve "
                        "for one variable, the contour for two, the learning curve for more")


def _cmd_minimize(args: argparse.Namespace) -> int:
    return _optimize(args, "minimize")


def _cmd_maximize(args: argparse.Namespace) -> int:
    return _optimize(args, "maximize")


def _optimize(args: argparse.Namespace, direction: str) -> int:
    from .optimize import (MAX_ITER_CAP, MAX_STARTS, Status, exact_critical_point, headline, log_header,
                           log_line, maximize, minimize, report_dict, report_text)

    expr = _read_formula(args.expr)
    nodes, most = len(expr.nodes()), 1_000  # compiling the gradient and the Hessian takes seconds past it
    if nodes > most:
        raise _Usage(f"the formula has {nodes:,} distinct nodes; {direction} handles at most {most:,} "
                     f"(its generated gradient and Hessian code would take too long)")
    start = parse_assignments(args.start, "--start", expr.variables)
    check_point(expr, start, "--start")
    positive = "a positive finite number"
    for flag, value, ok, want in (("--lr", args.lr, lambda v: math.isfinite(v) and v > 0, positive),
                                  ("--tol", args.tol, lambda v: math.isfinite(v) and v > 0, positive),
                                  ("--max-iter", args.max_iter, lambda v: v >= 0, ">= 0"),
                                  ("--max-iter", args.max_iter, lambda v: v <= MAX_ITER_CAP,
                                   f"at most {MAX_ITER_CAP:,} (use --timeout to bound the time instead)"),
                                  ("--starts", args.starts, lambda v: v >= 1, ">= 1"),
                                  ("--starts", args.starts, lambda v: v <= MAX_STARTS,
                                   f"at most {MAX_STARTS:,} (each start is a whole search)"),
                                  ("--timeout", args.timeout, lambda v: math.isfinite(v) and v > 0, positive),
                                  ("--log-every", args.log_every, lambda v: v >= 1, ">= 1")):
        if value is not None and not ok(value):
            raise _Usage(f"{flag} must be {want}, got {value}")
    if args.plot is not None:
        from .viz import plot  # only here: the plain path never loads matplotlib
        plot.check_path(args.plot)
    log = sys.stderr if args.json else sys.stdout
    callback = None
    # With several starts each row says which run it is from, numbered as the runs begin (a run
    # begins at iteration 0; a start where f is undefined has no rows), and every run's last
    # iteration is shown, as a single run's is.
    labelled = (args.starts or 1) > 1
    seen: list = [0, None]  # the runs begun so far, and the last entry of the current one
    if args.log_every and not args.quiet:
        every = args.log_every
        print(("run  " if labelled else "") + log_header(expr.variables), file=log)

        def show(entry) -> None:
            print((f"{seen[0]:>3}  " if labelled else "") + log_line(entry), file=log)

        def callback(entry) -> None:
            if entry.nit == 0:
                last_of_previous_run()
                seen[0] += 1
            seen[1] = entry
            if entry.nit % every == 0:
                show(entry)

        def last_of_previous_run() -> None:
            if seen[1] is not None and seen[1].nit % every:
                show(seen[1])

    run = minimize if direction == "minimize" else maximize
    result = run(expr, start=start or None, method=args.method, lr=args.lr, tol=args.tol,
                 max_iter=args.max_iter, starts=args.starts, seed=args.seed, callback=callback,
                 timeout=args.timeout)
    if callback is not None:
        last_of_previous_run()
    if args.json:
        print(_json_text(report_dict(result, expr)))
    elif args.quiet:
        print(headline(result))
    else:
        print(report_text(result, expr, verbose=args.verbose))
        if args.exact and result.status in (Status.CONVERGED, Status.SADDLE):
            print(exact_critical_point(expr, result.point))
    if args.plot is not None:
        plot.save(plot.picture(expr, result), args.plot)
    return EXIT_OK if result.success else EXIT_FAILED


# ---- grad, check, graph, trace (reverse-mode autograd and its teaching views) ---------------------

def _formula_and_point(p: argparse.ArgumentParser, at_help: str) -> None:
    p.add_argument("expr", help="the formula, e.g. \"x**2+2*x*y+cos(x+2*y)\"")
    p.add_argument("--at", metavar="x=1,y=2", action="append",
                   help=at_help + "; a bare number for a formula of one variable; may be repeated")


def _point_and_json_args(p: argparse.ArgumentParser) -> None:
    """The arguments of grad, check and trace: the formula, --at, --json."""
    _formula_and_point(p, "the point: a value for every variable")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _grad_args(p: argparse.ArgumentParser) -> None:
    """The arguments of grad: those of check, and --sympy."""
    _point_and_json_args(p)
    p.add_argument("--sympy", action="store_true",
                   help="compare autograd with sympy's derivative instead, a check independent of gradcore "
                        "(loads sympy, about a second)")


def _cmd_grad(args: argparse.Namespace) -> int:
    # By default autograd against gradcore's own symbolic derivative, both without sympy, so grad
    # starts fast; --sympy compares with sympy instead (check compares all three, always).
    from .check import refuse_many_partials, symbolic_gradient
    from .format import json_number as finite_or_none
    expr = _read_formula(args.expr)
    point = _full_point(expr, args.at)
    refuse_many_partials(expr, len(expr.variables))
    if args.sympy:
        return _grad_by_sympy(expr, point, args.json)
    report = symbolic_gradient(expr, point)
    agree = all(p.agree is not False for p in report.partials)
    unchecked = [p.variable for p in report.partials if p.agree is None]
    if args.json:
        print(_json_text({"expression": report.expression, "point": report.point, "value": report.value,
                          "partials": {p.variable: {"symbolic": p.symbolic, "autograd": finite_or_none(p.autograd),
                                                    "symbolic_value": finite_or_none(p.symbolic_value),
                                                    "agree": p.agree} for p in report.partials},
                          "agree": None if agree and unchecked else agree, "not_checked": unchecked}))
    else:
        _print_point(report)
        for p in report.partials:
            print(f"df/d{p.variable} = {p.symbolic}")
            verdict = {True: "agree", False: "DISAGREE", None: "(the derivative has no value here)"}[p.agree]
            print(f"  autograd {p.autograd!r}   symbolic {p.symbolic_value!r}   {verdict}")
        checked = [p.variable for p in report.partials if p.agree is not None]
        scope = f" on {', '.join(f'df/d{v}' for v in checked)}" if unchecked else ""
        print(("autograd and the symbolic derivative agree" if agree else
               "autograd and the symbolic derivative DISAGREE") + scope
              + f" (largest difference {report.max_error:.1e})")
        if unchecked:
            print(f"not checked: {', '.join(f'df/d{v}' for v in unchecked)} "
                  "(the symbolic derivative has no value there)")
    return EXIT_OK if agree and not unchecked else EXIT_FAILED


def _print_point(report: Any) -> None:
    print(f"f = {report.expression}")
    print("at " + (", ".join(f"{k}={v:g}" for k, v in report.point.items()) or "(no variables)")
          + f": f = {report.value!r}")


def _grad_by_sympy(expr, point: dict[str, float], as_json: bool) -> int:
    """grad --sympy: autograd against sympy's derivative, as `check` does without finite differences."""
    from .check import check_gradient
    from .format import json_number as finite_or_none
    report = check_gradient(expr, point)
    agree = all(p.ad_ok is not False for p in report.partials)  # None: sympy could not differentiate
    skipped = report.sympy_skipped  # sympy was not asked (too large): no verdict, so never "agree"
    if not skipped and report.partials and all(p.ad_ok is None for p in report.partials):
        skipped = "sympy could not differentiate or evaluate this formula"  # nothing was compared
    # Partials sympy gave no number for: "agree" may speak only of the others, and the run is no success.
    unchecked = [] if skipped else [p.variable for p in report.partials if p.ad_ok is None]
    if as_json:
        print(_json_text({"expression": report.expression, "point": report.point, "value": report.value,
                          "partials": {p.variable: {"symbolic": p.symbolic, "autograd": finite_or_none(p.autograd),
                                                    "sympy": finite_or_none(p.exact), "agree": p.ad_ok}
                                       for p in report.partials},
                          "agree": None if skipped or (agree and unchecked) else agree,
                          "sympy_skipped": skipped, "not_checked": unchecked}))
    else:
        _print_point(report)
        for p in report.partials:
            print(f"df/d{p.variable} = {p.symbolic}")
            if skipped:
                print(f"  autograd {p.autograd!r}   not checked by sympy")
                continue
            verdict = {True: "agree", False: "DISAGREE", None: "(sympy could not differentiate this)"}[p.ad_ok]
            print(f"  autograd {p.autograd!r}   sympy {p.exact!r}   {verdict}")
        if skipped:
            print(f"autograd not checked by sympy ({skipped})")
        else:
            checked = [p.variable for p in report.partials if p.ad_ok is not None]
            scope = f" on {', '.join(f'df/d{v}' for v in checked)}" if unchecked else ""
            print(("autograd and sympy agree" if agree else "autograd and sympy DISAGREE") + scope
                  + f" (largest difference {report.max_ad_error:.1e})")
            if unchecked:
                print(f"not checked by sympy: {', '.join(f'df/d{v}' for v in unchecked)} "
                      "(sympy gave no value there)")
    return EXIT_OK if agree and not skipped and not unchecked else EXIT_FAILED


def _cmd_check(args: argparse.Namespace) -> int:
    from .check import check_gradient, refuse_many_partials
    expr = _read_formula(args.expr)
    point = _full_point(expr, args.at)
    refuse_many_partials(expr, len(expr.variables))
    report = check_gradient(expr, point)
    print(_json_text(report.to_dict()) if args.json else report)
    return EXIT_OK if report.passed else EXIT_FAILED


def _graph_args(p: argparse.ArgumentParser) -> None:
    _formula_and_point(p, "evaluate and backpropagate at this point, so nodes show data and grad")
    p.add_argument("--format", choices=("dot", "mermaid", "svg"), default="dot",
                   help="Graphviz DOT (default; render with: dot -Tsvg), Mermaid (renders on GitHub) "
                        "or SVG (drawn by gradcore: graph EXPR --format svg > graph.svg)")


def _cmd_graph(args: argparse.Namespace) -> int:
    from .value import build
    from .viz import draw, to_dot, to_mermaid
    expr = _read_formula(args.expr)
    graph = expr
    if args.at is not None:
        graph, _ = build(expr, _full_point(expr, args.at), labels=True)
        if graph.requires_grad:
            graph.backward()
    text = {"dot": to_dot, "mermaid": to_mermaid, "svg": lambda g: draw(g).svg}[args.format](graph)
    print(text, end="")
    return EXIT_OK


def _cmd_trace(args: argparse.Namespace) -> int:
    from .viz import trace
    expr = _read_formula(args.expr)
    table = trace(expr, _full_point(expr, args.at))
    print(_json_text(table.to_dict()) if args.json else table)
    return EXIT_OK


def _explain_args(p: argparse.ArgumentParser) -> None:
    _formula_and_point(p, "read the graph, trace and check here (default: the descent's start, or every variable at 1)")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--minimize", action="store_true", help="add the descent: status, landscape, learning curve, update rule")
    goal.add_argument("--maximize", action="store_true", help="add the ascent, as --minimize")
    p.add_argument("--start", metavar="x=5,y=1", action="append", help="where the descent starts (as for minimize)")
    p.add_argument("--method", help="the descent's method, as for minimize (default bfgs)")
    p.add_argument("--lr", type=float, help="learning rate or first trial step, as for minimize")
    p.add_argument("--tol", type=float, help="gradient-norm tolerance, as for minimize (1e-6)")
    p.add_argument("--max-iter", type=int, help="at most this many updates, as for minimize")
    p.add_argument("--starts", type=int, help="multi-start, as for minimize")
    p.add_argument("--seed", type=int, help="seed of the random starts, as for minimize")
    p.add_argument("-o", "--output", metavar="FILE", help="write the page here (default: standard output)")
    # -o is the one short option with a value: argparse would read the formula "-o*x" as -o "*x". Only
    # the exact "-o" is the option; any other text starting with one '-' stays the formula.
    prefixes = p._get_option_tuples
    p._get_option_tuples = lambda text: [] if text[1:2] != "-" else prefixes(text)


def _cmd_explain(args: argparse.Namespace) -> int:
    from .viz.explain import explain
    expr = _read_formula(args.expr)
    at = _full_point(expr, args.at) if args.at is not None else None
    options = {k: getattr(args, k) for k in ("method", "lr", "tol", "max_iter", "starts", "seed")
               if getattr(args, k) is not None}
    if args.start is not None:
        options["start"] = parse_assignments(args.start, "--start", expr.variables)
        check_point(expr, options["start"], "--start")
    if options and not (args.minimize or args.maximize):
        raise _Usage("--start, --method, --lr, --tol, --max-iter, --starts and --seed are for the descent: "
                     "add --minimize or --maximize")
    page = explain(expr, at=at, minimize=args.minimize, maximize=args.maximize, **options)
    if args.output:
        page.save(args.output)
        print(f"wrote {args.output} ({len(page.html.encode('utf-8')) // 1024} KB: {', '.join(page.sections)})",
              file=sys.stderr)
    else:
        print(page.html, end="")
    return EXIT_OK


# ---- fit: a formula model fitted to the columns of a CSV file -------------------------------------

def _fit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", help="the model, e.g. \"w*x + b\": variables that are columns are data, the rest parameters")
    p.add_argument("--data", required=True, metavar="FILE.csv", help="a CSV file whose header row names the columns")
    p.add_argument("--target", default="y", help="the column to predict (default: y)")
    p.add_argument("--x", metavar="COLUMN", help="the column the model's variable x reads (e.g. --x height)")
    p.add_argument("--map", metavar="v=COLUMN,...", help="the columns other model variables read, e.g. t=time,u=age")
    p.add_argument("--params", metavar="w=1,b=0", help="starting values of the parameters (default: 1)")
    p.add_argument("--loss", default="mse", help="mse (default), sse, mae, or a formula in pred and y")
    p.add_argument("--method",
                   help="bfgs (default: line search on all rows), gd, sgd (one row at a time), minibatch, "
                        "momentum, adam")
    p.add_argument("--batch-size", type=int, metavar="N", help="rows per update (minibatch: 32)")
    p.add_argument("--epochs", type=int, metavar="N", help="passes over the data (gd: 1000, minibatch: 100)")
    p.add_argument("--lr", type=float, help="learning rate of the fixed-step methods (0.01; adam 0.1)")
    p.add_argument("--tol", type=float, default=1e-6, help="converged when the gradient norm is below this (1e-6)")
    p.add_argument("--seed", type=int, help="seed of the shuffled row order")
    p.add_argument("--no-shuffle", action="store_true", help="visit the rows in file order")
    p.add_argument("--center", action="store_true", help="fit on centred columns (answers in the data's units)")
    p.add_argument("--standardize", action="store_true", help="fit on standardised columns (likewise)")
    p.add_argument("--log-every", type=int, metavar="N", help="print a progress row every N epochs")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _cmd_fit(args: argparse.Namespace) -> int:
    from .fitting import fit, log_line, read_csv, report_dict, report_text

    for flag, value in (("--batch-size", args.batch_size), ("--epochs", args.epochs),
                        ("--log-every", args.log_every)):
        if value is not None and value < 1:
            raise _Usage(f"{flag} must be >= 1, got {value}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        raise _Usage(f"--lr must be a positive finite number, got {args.lr}")
    model = _read_formula(args.expr)
    bind = {}
    for item in filter(None, (args.map or "").split(",")):
        name, _, column = (part.strip() for part in item.partition("="))
        if not name or not column:
            raise _Usage(f"--map expects variable=column pairs separated by commas, e.g. t=time; got {item!r}")
        bind[name] = column
    if args.x:
        bind["x"] = args.x
    data = read_csv(args.data)
    for column in [args.target, *bind.values()]:
        if column not in data:
            raise _Usage(f"{args.data}, line 1: no column {column!r} (the header names {', '.join(data)})")
    log = sys.stderr if args.json else sys.stdout
    callback = None
    if args.log_every:
        every = args.log_every

        def callback(step) -> None:
            if step.epoch % every == 0:
                print(log_line(step), file=log)

    result = fit(model, data, target=args.target, params=parse_assignments(args.params, "--params") or None,
                 loss=args.loss, method=args.method, lr=args.lr, epochs=args.epochs, batch_size=args.batch_size,
                 shuffle=not args.no_shuffle, seed=args.seed, tol=args.tol, callback=callback,
                 center=args.center, standardize=args.standardize, bind=bind)
    print(_json_text(report_dict(result)) if args.json else report_text(result))
    return EXIT_OK if result.success else EXIT_FAILED


# name -> (help, add_arguments, run). Each run returns the exit status.
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "diff": ("exact symbolic partial derivatives", _diff_args, _cmd_diff),
    "grad": ("partials at a point by autograd and by gradcore's exact derivative (with --sympy: by sympy), "
             "and whether they agree", _grad_args, _cmd_grad),
    "check": ("autograd vs sympy vs finite differences, with tolerances", _point_and_json_args, _cmd_check),
    "graph": ("the computation graph as Graphviz DOT, Mermaid or SVG", _graph_args, _cmd_graph),
    "trace": ("the forward and backward passes of reverse mode, step by step", _point_and_json_args, _cmd_trace),
    "codegen": ("print the generated forward and adjoint Python code", _codegen_args, _cmd_codegen),
    "minimize": ("find a minimum by gradient descent, with an honest status", _optimize_args, _cmd_minimize),
    "maximize": ("find a maximum by gradient ascent, with an honest status", _optimize_args, _cmd_maximize),
    "fit": ("fit a formula model to the columns of a CSV file by gradient descent", _fit_args, _cmd_fit),
    "explain": ("one self-contained HTML page: derivatives, graph, trace, code, check, descent", _explain_args, _cmd_explain),
}


_WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"
# Examples shown by `gradcore COMMAND --help` (minimize and maximize write their own).
_EXAMPLES = {
    "diff": ['diff "x**2+2*x+3"', 'diff "x^2 + 2xy + cos(x+2y)" --var y', 'diff "sigmoid(x)" --json',
             f'diff "{_WORKED}" --var y --steps'],
    "grad": [f'grad "{_WORKED}" --at x=1,y=2', 'grad "-x**2" --at x=3 --json', f'grad "{_WORKED}" --at x=1,y=2 --sympy'],
    "check": [f'check "{_WORKED}" --at x=1,y=2', 'check "sqrt(x)*log(x)" --at x=2 --json'],
    "graph": [f'graph "{_WORKED}" --at x=1,y=2', 'graph "sin(x)*x" --format mermaid',
              f'graph "{_WORKED}" --at x=1,y=2 --format svg > graph.svg'],
    "trace": [f'trace "{_WORKED}" --at x=1,y=2', 'trace "(x+x)*(x+x)" --at x=3'],
    "codegen": ['codegen "x**2+2*x*y+cos(x+2*y)"', 'codegen "exp(-x**2)" --hessian', 'codegen "log(x)" --numpy'],
    "fit": ['fit "w*x + b" --data heights.csv --target weight --x height',
            'fit "w*x + b" --data heights.csv --target weight --x height --method minibatch --batch-size 2 '
            '--epochs 100 --lr 0.0001 --seed 0 --center',
            'fit "a*exp(-k*t) + c" --data decay.csv --json'],
    "explain": [f'explain "{_WORKED}" --at x=1,y=2 -o page.html', 'explain "x**2+2*x+3" --minimize -o descent.html',
                f'explain "{_WORKED}" --minimize --method gd --start x=1,y=2 --max-iter 50 > page.html'],
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; given `command`, only that subcommand is built.

    argparse hands everything after the subcommand's name to that subcommand's parser alone, and
    the top level's own messages do not list the subcommands (its metavar is COMMAND), so when
    main() knows the subcommand it need not spend start-up time building the others.
    """
    import argparse  # here, not at the top: a plain command line is read without it (see _argv.py)

    class _Parser(argparse.ArgumentParser):
        # argparse prints usage and exits itself; route its complaints through our one-line policy.
        def error(self, message: str) -> None:  # type: ignore[override]
            raise _Usage(f"{message} (see: {self.prog} --help)")

    parser = _Parser(prog="gradcore", description="Differentiate formulas three ways and find their extrema.",
                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"gradcore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_, add_arguments, _) in _COMMANDS.items():
        if command is not None and name != command:
            continue
        p = sub.add_parser(name, help=help_, description=help_,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if name in _EXAMPLES:
            p.epilog = "examples:\n" + "".join(f"  python -m gradcore {e}\n" for e in _EXAMPLES[name])
        # A formula may begin with a minus ("-(x**2)+4*x"), which argparse would take for an option.
        # Every option is spelled --long (or -h), so anything else starting with '-' is the formula.
        p._negative_number_matcher = re.compile(r"^-(?!-)")
        add_arguments(p)
    return parser


# Subcommands whose arguments only argparse reads: explain adjusts the parser's own option matching.
_ARGPARSE_ONLY = frozenset({"explain"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of raising."""
    words = sys.argv[1:] if argv is None else list(argv)
    try:
        args = None if words and words[0] in _ARGPARSE_ONLY else plain_args(words, _COMMANDS)
        if args is None:
            # The first word names the subcommand when it is one (the top level has options only).
            args = build_parser(words[0] if words and words[0] in _COMMANDS else None).parse_args(words)
        if not args.command:
            raise _Usage(f"no command given; try: gradcore minimize \"x**2+2*x+3\" "
                         f"(commands: {', '.join(_COMMANDS)}; see: gradcore --help)")
        status = _COMMANDS[args.command][2](args)
        sys.stdout.flush()  # a write error (full disk) must surface here, not at interpreter exit
        return status
    except ParseError as exc:
        print(f"gradcore: error: {exc.reason}\n{exc.excerpt()}", file=sys.stderr)
        return EXIT_USAGE
    except _Usage as exc:
        print(f"gradcore: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GradcoreError as exc:
        print(f"gradcore: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gradcore: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (gradcore ... | head): stop quietly, as a Unix tool killed by SIGPIPE
        # would, and point stdout at /dev/null so the interpreter's final flush cannot complain.
        _silence_stdout()
        return 141
    except UnicodeEncodeError as exc:
        _silence_stdout()
        print(f"gradcore: error: the output cannot be written in this terminal's encoding ({exc.encoding}); "
              f"set PYTHONIOENCODING=utf-8", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        if exc.filename is not None:  # a file named on the command line, not standard output
            print(f"gradcore: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        _silence_stdout()
        print(f"gradcore: error: could not write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED


def _silence_stdout() -> None:
    """Point stdout at /dev/null, dropping what is buffered, so the final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file behind stdout (a test's capture): nothing to silence
        pass
