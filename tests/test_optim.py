"""The optimizers against numbers worked out independently of nncalc.optim.

The problem throughout: θ0 = [1, −2], learning rate η = 0.1, and the fixed gradients
g1 = [0.5, −1], g2 = [0.2, 0.3], g3 = [−0.4, 0.1] for steps 1, 2 and 3. Expected values are either
worked by hand (the derivation is in the comments) or computed by `reference` below: the
textbook formulas in 50-digit decimal arithmetic, written from the formulas alone (m̂/(√v̂ + ε)
for adam, not torch's operation order), so they share no code or rounding with the module.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pytest

from nncalc import optim
from nncalc.optim import OPTIMIZERS, State, initial_state, step

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

THETA0 = ("1", "-2")
GRADS = (("0.5", "-1"), ("0.2", "0.3"), ("-0.4", "0.1"))
LR = "0.1"
TOL = 1e-12
ALL = sorted(OPTIMIZERS)


def vec(*values: str | float) -> Array:
    return np.array([float(v) for v in values])


def run(
    name: str,
    hyper: Mapping[str, float] | None = None,
    trainable: tuple[bool, ...] = (True, True),
    steps: int = 3,
) -> list[optim.StepResult]:
    """The results of the first `steps` steps of the problem above."""
    theta, state = vec(*THETA0), initial_state()
    mask = np.array(trainable)
    results = []
    for g in GRADS[:steps]:
        result = step(name, theta, vec(*g), state, float(LR), mask, hyper)
        results.append(result)
        theta, state = result.theta, result.state
    return results


def close(actual: Array, expected: object) -> None:
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=np.float64), rtol=0, atol=TOL)


def reference(name: str, hyper: Mapping[str, str]) -> list[list[Decimal]]:
    """θ after steps 1, 2, 3, from the textbook formulas in 50-digit decimals.

    sgd:      g = ∂L/∂θ + λθ;  θ ← θ − ηg
    momentum: g = ∂L/∂θ + λθ;  b ← g (step 1), μb + (1 − τ)g (later);  θ ← θ − ηb
    nesterov: as momentum with τ = 0, then θ ← θ − η(g + μb)
    classic:  g = ∂L/∂θ + λθ;  v ← μv − ηg (v0 = 0);  θ ← θ + v
    rmsprop:  g = ∂L/∂θ + λθ;  s ← αs + (1 − α)g²;  θ ← θ − ηg/(√s + ε)
    adam:     g = ∂L/∂θ + λθ;  m ← β1m + (1 − β1)g;  v ← β2v + (1 − β2)g²;
              m̂ = m/(1 − β1^t);  v̂ = v/(1 − β2^t);  θ ← θ − η m̂/(√v̂ + ε)
    adamw:    θ ← θ(1 − ηλ);  then adam with g = ∂L/∂θ
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        h = {k: Decimal(v) for k, v in hyper.items()}
        lr, wd = Decimal(LR), h.get("weight_decay", Decimal(0))
        mu, tau = h.get("momentum", Decimal(0)), h.get("dampening", Decimal(0))
        theta = [Decimal(x) for x in THETA0]
        buf: list[Decimal] | None = None
        m, v = [Decimal(0)] * 2, [Decimal(0)] * 2
        out = []
        for t, raw in enumerate(GRADS, start=1):
            grad = [Decimal(x) for x in raw]
            if name == "adamw":
                theta = [w * (1 - lr * wd) for w in theta]
                g = grad
            else:
                g = [gi + wd * w for gi, w in zip(grad, theta, strict=True)]
            if name == "sgd":
                theta = [w - lr * gi for w, gi in zip(theta, g, strict=True)]
            elif name in ("momentum", "nesterov"):
                if buf is None:
                    buf = list(g)
                else:
                    buf = [mu * b + (1 - tau) * gi for b, gi in zip(buf, g, strict=True)]
                d = buf
                if name == "nesterov":
                    d = [gi + mu * b for gi, b in zip(g, buf, strict=True)]
                theta = [w - lr * di for w, di in zip(theta, d, strict=True)]
            elif name == "momentum_classic":
                old = buf or [Decimal(0)] * 2
                buf = [mu * vi - lr * gi for vi, gi in zip(old, g, strict=True)]
                theta = [w + vi for w, vi in zip(theta, buf, strict=True)]
            elif name == "rmsprop":
                alpha, eps = h["alpha"], h["eps"]
                v = [alpha * s + (1 - alpha) * gi * gi for s, gi in zip(v, g, strict=True)]
                theta = [
                    w - lr * gi / (s.sqrt() + eps) for w, gi, s in zip(theta, g, v, strict=True)
                ]
            else:  # adam, adamw
                b1, b2, eps = h["beta1"], h["beta2"], h["eps"]
                m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
                v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True)]
                m_hat = [mi / (1 - b1**t) for mi in m]
                v_hat = [vi / (1 - b2**t) for vi in v]
                theta = [
                    w - lr * mh / (vh.sqrt() + eps)
                    for w, mh, vh in zip(theta, m_hat, v_hat, strict=True)
                ]
            out.append(list(theta))
        return out


DEFAULTS = {
    "sgd": {"weight_decay": "0"},
    "momentum": {"momentum": "0.9", "dampening": "0", "weight_decay": "0"},
    "nesterov": {"momentum": "0.9", "weight_decay": "0"},
    "momentum_classic": {"momentum": "0.9", "weight_decay": "0"},
    "rmsprop": {"alpha": "0.99", "eps": "1e-8", "weight_decay": "0"},
    "adam": {"beta1": "0.9", "beta2": "0.999", "eps": "1e-8", "weight_decay": "0"},
    "adamw": {"beta1": "0.9", "beta2": "0.999", "eps": "1e-8", "weight_decay": "0.01"},
}


# --- the registry -------------------------------------------------------------------------------


def test_registry_names_and_defaults() -> None:
    # torch's defaults, except momentum 0.9 (torch.optim.SGD's is 0, which is plain sgd).
    assert {name: {k: str(v) for k, v in o.defaults.items()} for name, o in OPTIMIZERS.items()} == {
        name: {k: str(float(v)) for k, v in d.items()} for name, d in DEFAULTS.items()
    }


@pytest.mark.parametrize("name", ALL)
def test_buffers_and_report_are_the_declared_ones(name: str) -> None:
    opt = OPTIMIZERS[name]
    result = run(name, steps=1)[0]
    assert tuple(result.state.buffers) == opt.buffers
    assert tuple(result.report) == opt.reported
    assert all(name in optim.SYMBOLS for name in (*opt.buffers, *opt.reported))
    assert opt.formulas and all(isinstance(f, str) and f for f in opt.formulas)


def test_documented_buffer_names() -> None:
    assert OPTIMIZERS["momentum"].buffers == ("velocity",)
    assert OPTIMIZERS["nesterov"].buffers == ("velocity",)
    assert OPTIMIZERS["rmsprop"].buffers == ("square_avg",)
    assert OPTIMIZERS["adam"].buffers == OPTIMIZERS["adamw"].buffers == ("exp_avg", "exp_avg_sq")
    assert OPTIMIZERS["adam"].reported == ("m_hat", "v_hat")


# --- three steps, by hand -----------------------------------------------------------------------


def test_sgd_by_hand() -> None:
    # θ1 = [1 − 0.1·0.5, −2 − 0.1·(−1)] = [0.95, −1.9]
    # θ2 = [0.95 − 0.02, −1.9 − 0.03] = [0.93, −1.93]
    # θ3 = [0.93 + 0.04, −1.93 − 0.01] = [0.97, −1.94]
    results = run("sgd")
    for result, expected in zip(results, ([0.95, -1.9], [0.93, -1.93], [0.97, -1.94]), strict=True):
        close(result.theta, expected)
        assert result.state.buffers == {}
    assert [r.state.step for r in results] == [1, 2, 3]


def test_sgd_weight_decay_by_hand() -> None:
    # λ = 0.1: g1 = [0.5 + 0.1, −1 − 0.2] = [0.6, −1.2];             θ1 = [0.94, −1.88]
    # g2 = [0.2 + 0.094, 0.3 − 0.188] = [0.294, 0.112];               θ2 = [0.9106, −1.8912]
    # g3 = [−0.4 + 0.09106, 0.1 − 0.18912] = [−0.30894, −0.08912];    θ3 = [0.941494, −1.882288]
    expected = ([0.94, -1.88], [0.9106, -1.8912], [0.941494, -1.882288])
    for result, theta in zip(run("sgd", {"weight_decay": 0.1}), expected, strict=True):
        close(result.theta, theta)


def test_momentum_by_hand() -> None:
    # μ = 0.9. Step 1: b1 = g1 = [0.5, −1];                         θ1 = [0.95, −1.9]
    # b2 = 0.9·[0.5, −1] + [0.2, 0.3] = [0.65, −0.6];                θ2 = [0.885, −1.84]
    # b3 = 0.9·[0.65, −0.6] + [−0.4, 0.1] = [0.185, −0.44];          θ3 = [0.8665, −1.796]
    expected_b = ([0.5, -1.0], [0.65, -0.6], [0.185, -0.44])
    expected_theta = ([0.95, -1.9], [0.885, -1.84], [0.8665, -1.796])
    for result, b, theta in zip(run("momentum"), expected_b, expected_theta, strict=True):
        close(result.state.buffers["velocity"], b)
        close(result.theta, theta)


def test_momentum_dampening_skips_the_first_step_by_hand() -> None:
    # τ = 0.5; torch sets b1 = g1 undamped: b1 = [0.5, −1];          θ1 = [0.95, −1.9]
    # b2 = 0.9·[0.5, −1] + 0.5·[0.2, 0.3] = [0.55, −0.75];          θ2 = [0.895, −1.825]
    # b3 = 0.9·[0.55, −0.75] + 0.5·[−0.4, 0.1] = [0.295, −0.625];   θ3 = [0.8655, −1.7625]
    expected_b = ([0.5, -1.0], [0.55, -0.75], [0.295, -0.625])
    expected_theta = ([0.95, -1.9], [0.895, -1.825], [0.8655, -1.7625])
    results = run("momentum", {"dampening": 0.5})
    for result, b, theta in zip(results, expected_b, expected_theta, strict=True):
        close(result.state.buffers["velocity"], b)
        close(result.theta, theta)


def test_momentum_weight_decay_by_hand() -> None:
    # λ = 0.1: g1 = [0.6, −1.2] = b1;                                θ1 = [0.94, −1.88]
    # g2 = [0.294, 0.112]; b2 = [0.54 + 0.294, −1.08 + 0.112] = [0.834, −0.968]
    #                                                                θ2 = [0.8566, −1.7832]
    # g3 = [−0.4 + 0.08566, 0.1 − 0.17832] = [−0.31434, −0.07832]
    # b3 = [0.7506 − 0.31434, −0.8712 − 0.07832] = [0.43626, −0.94952]
    #                                                                θ3 = [0.812974, −1.688248]
    expected_theta = ([0.94, -1.88], [0.8566, -1.7832], [0.812974, -1.688248])
    results = run("momentum", {"weight_decay": 0.1})
    for result, theta in zip(results, expected_theta, strict=True):
        close(result.theta, theta)
    close(results[-1].state.buffers["velocity"], [0.43626, -0.94952])


def test_nesterov_by_hand() -> None:
    # b as for momentum; the step uses d = g + 0.9·b.
    # d1 = [0.5 + 0.45, −1 − 0.9] = [0.95, −1.9];                   θ1 = [0.905, −1.81]
    # d2 = [0.2 + 0.585, 0.3 − 0.54] = [0.785, −0.24];              θ2 = [0.8265, −1.786]
    # d3 = [−0.4 + 0.1665, 0.1 − 0.396] = [−0.2335, −0.296];        θ3 = [0.84985, −1.7564]
    expected_b = ([0.5, -1.0], [0.65, -0.6], [0.185, -0.44])
    expected_theta = ([0.905, -1.81], [0.8265, -1.786], [0.84985, -1.7564])
    for result, b, theta in zip(run("nesterov"), expected_b, expected_theta, strict=True):
        close(result.state.buffers["velocity"], b)
        close(result.theta, theta)


def test_adam_first_step_by_hand() -> None:
    # Step 1: m = 0.1·g, v = 0.001·g², so m̂ = g, v̂ = g² and the step is η·g/(|g| + ε):
    # θ1 = [1 − 0.1·0.5/(0.5 + 1e−8), −2 + 0.1·1/(1 + 1e−8)]
    result = run("adam", steps=1)[0]
    close(result.theta, [1 - 0.05 / (0.5 + 1e-8), -2 + 0.1 / (1 + 1e-8)])
    close(result.report["m_hat"], [0.5, -1.0])
    close(result.report["v_hat"], [0.25, 1.0])
    close(result.state.buffers["exp_avg"], [0.05, -0.1])
    close(result.state.buffers["exp_avg_sq"], [0.00025, 0.001])


def test_adam_epsilon_sits_outside_the_root_after_bias_correction() -> None:
    # ε = 0.5 makes its place visible. m̂ = g, v̂ = g², so θ1 = θ0 − η·g/(|g| + 0.5):
    # [1 − 0.05/1, −2 + 0.1/1.5] = [0.95, −1.9333…]. (ε inside the root would give
    # 0.05/√0.75 = 0.0577…; ε added before the bias correction, 0.05/(0.5 + 0.5·√0.001) ≈ 0.098.)
    result = run("adam", {"eps": 0.5}, steps=1)[0]
    close(result.theta, [0.95, float(Fraction(-29, 15))])


def test_adamw_first_step_by_hand() -> None:
    # λ = 0.01: θ is first scaled by 1 − 0.1·0.01 = 0.999 to [0.999, −1.998], then the adam
    # step η·g/(|g| + ε): θ1 = [0.999 − 0.05/(0.5 + 1e−8), −1.998 + 0.1/(1 + 1e−8)]
    result = run("adamw", steps=1)[0]
    close(result.theta, [0.999 - 0.05 / (0.5 + 1e-8), -1.998 + 0.1 / (1 + 1e-8)])
    close(result.report["m_hat"], [0.5, -1.0])


def test_rmsprop_first_step_by_hand() -> None:
    # s1 = 0.01·g1² = [0.0025, 0.01], √s1 = [0.05, 0.1]:
    # θ1 = [1 − 0.1·0.5/(0.05 + 1e−8), −2 + 0.1·1/(0.1 + 1e−8)]
    result = run("rmsprop", steps=1)[0]
    close(result.theta, [1 - 0.05 / (0.05 + 1e-8), -2 + 0.1 / (0.1 + 1e-8)])
    close(result.state.buffers["square_avg"], [0.0025, 0.01])


# --- three steps against the decimal reference, with variants -----------------------------------

VARIANTS = [
    ("sgd", {}),
    ("sgd", {"weight_decay": "0.1"}),
    ("momentum", {}),
    ("momentum", {"momentum": "0.5", "dampening": "0.25", "weight_decay": "0.1"}),
    ("nesterov", {}),
    ("nesterov", {"momentum": "0.5", "weight_decay": "0.1"}),
    ("momentum_classic", {}),
    ("momentum_classic", {"weight_decay": "0.1"}),
    ("rmsprop", {}),
    ("rmsprop", {"alpha": "0.9", "eps": "0.01", "weight_decay": "0.1"}),
    ("adam", {}),
    ("adam", {"weight_decay": "0.1"}),
    ("adam", {"beta1": "0.5", "beta2": "0.75", "eps": "0.1"}),
    ("adamw", {}),
    ("adamw", {"weight_decay": "0.5"}),
    ("adamw", {"beta1": "0.5", "beta2": "0.75", "eps": "0.1", "weight_decay": "0"}),
]


@pytest.mark.parametrize(("name", "overrides"), VARIANTS)
def test_three_steps_match_the_textbook_formulas(name: str, overrides: dict[str, str]) -> None:
    hyper = {**DEFAULTS[name], **overrides}
    expected = reference(name, hyper)
    results = run(name, {k: float(v) for k, v in overrides.items()})
    for result, theta in zip(results, expected, strict=True):
        close(result.theta, [float(x) for x in theta])


def test_adam_weight_decay_is_not_adamw() -> None:
    # Same λ, different placement: coupled (through m and v) vs decoupled.
    adam = run("adam", {"weight_decay": 0.1})[-1].theta
    adamw = run("adamw", {"weight_decay": 0.1})[-1].theta
    assert np.abs(adam - adamw).max() > 1e-3


# --- continuing from a given state --------------------------------------------------------------


def test_momentum_continues_from_a_state_given_by_hand() -> None:
    # After step 1 (see test_momentum_by_hand): θ1 = [0.95, −1.9], b1 = [0.5, −1].
    state = State(1, {"velocity": vec(0.5, -1)})
    result = step("momentum", vec(0.95, -1.9), vec(0.2, 0.3), state, 0.1, np.ones(2, bool))
    close(result.state.buffers["velocity"], [0.65, -0.6])
    close(result.theta, [0.885, -1.84])
    assert result.state.step == 2


def test_adam_continues_from_a_state_given_by_hand() -> None:
    # Step 2 from m1 = [0.05, −0.1], v1 = [0.00025, 0.001] at θ = [0.95, −1.9] with g2:
    # m2 = 0.9·m1 + 0.1·g2 = [0.065, −0.06];  v2 = 0.999·v1 + 0.001·g2² = [0.00028975, 0.001089]
    # m̂ = m2/(1 − 0.81) = m2/0.19;  v̂ = v2/(1 − 0.998001) = v2/0.001999
    state = State(1, {"exp_avg": vec(0.05, -0.1), "exp_avg_sq": vec(0.00025, 0.001)})
    result = step("adam", vec(0.95, -1.9), vec(0.2, 0.3), state, 0.1, np.ones(2, bool))
    m = [Fraction("0.065"), Fraction("-0.06")]
    v = [Fraction("0.00028975"), Fraction("0.001089")]
    m_hat = [x / Fraction("0.19") for x in m]
    v_hat = [x / Fraction("0.001999") for x in v]
    close(result.state.buffers["exp_avg"], [float(x) for x in m])
    close(result.state.buffers["exp_avg_sq"], [float(x) for x in v])
    close(result.report["m_hat"], [float(x) for x in m_hat])
    close(result.report["v_hat"], [float(x) for x in v_hat])
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        expected = [
            Decimal(w)
            - Decimal("0.1")
            * Decimal(mh.numerator)
            / Decimal(mh.denominator)
            / ((Decimal(vh.numerator) / Decimal(vh.denominator)).sqrt() + Decimal("1e-8"))
            for w, mh, vh in zip(("0.95", "-1.9"), m_hat, v_hat, strict=True)
        ]
    close(result.theta, [float(x) for x in expected])
    assert result.state.step == 2


def test_rmsprop_continues_from_a_state_given_by_hand() -> None:
    # s2 = 0.99·[0.0025, 0.01] + 0.01·[0.04, 0.09] = [0.002875, 0.0108]
    state = State(1, {"square_avg": vec(0.0025, 0.01)})
    result = step("rmsprop", vec(0.95, -1.9), vec(0.2, 0.3), state, 0.1, np.ones(2, bool))
    close(result.state.buffers["square_avg"], [0.002875, 0.0108])
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        expected = [
            Decimal(w) - Decimal("0.1") * Decimal(g) / (Decimal(s).sqrt() + Decimal("1e-8"))
            for w, g, s in zip(
                ("0.95", "-1.9"), ("0.2", "0.3"), ("0.002875", "0.0108"), strict=True
            )
        ]
    close(result.theta, [float(x) for x in expected])


@pytest.mark.parametrize("name", ALL)
def test_a_resumed_run_equals_an_unbroken_one(name: str) -> None:
    unbroken = run(name)
    second = unbroken[1]
    copied = State(second.state.step, {k: b.copy() for k, b in second.state.buffers.items()})
    resumed = step(name, second.theta.copy(), vec(*GRADS[2]), copied, 0.1, np.ones(2, bool))
    np.testing.assert_array_equal(resumed.theta, unbroken[2].theta)


def test_the_step_count_drives_the_bias_correction() -> None:
    # The same buffers at step count 0 and 5 give different m̂ (1 − 0.9 vs 1 − 0.9⁶).
    buffers = {"exp_avg": vec(0.05, -0.1), "exp_avg_sq": vec(0.00025, 0.001)}
    ones = np.ones(2, bool)
    early = step("adam", vec(*THETA0), vec(0, 0), State(0, buffers), 0.1, ones)
    late = step("adam", vec(*THETA0), vec(0, 0), State(5, buffers), 0.1, ones)
    close(early.report["m_hat"], [0.045 / 0.1, -0.09 / 0.1])
    close(late.report["m_hat"], [0.045 / (1 - 0.9**6), -0.09 / (1 - 0.9**6)])


# --- frozen entries and purity ------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_frozen_entries_neither_move_nor_change_state(name: str) -> None:
    hyper = {"weight_decay": 0.1}  # decay must not reach a frozen entry either
    free = run(name, hyper)
    frozen = run(name, hyper, trainable=(True, False))
    for f, r in zip(free, frozen, strict=True):
        assert r.theta[1] == -2.0
        assert r.theta[0] == f.theta[0]  # the trainable entry is unaffected
        for key, buffer in r.state.buffers.items():
            assert buffer[1] == 0.0
            assert buffer[0] == f.state.buffers[key][0]
        for values in r.report.values():
            assert np.isnan(values[1])
            assert not np.isnan(values[0])


@pytest.mark.parametrize("name", ["momentum", "nesterov", "momentum_classic", "rmsprop", "adam"])
def test_a_frozen_entry_keeps_a_given_buffer(name: str) -> None:
    buffers = {b: vec(0.3, 7.0) for b in OPTIMIZERS[name].buffers}
    result = step(
        name, vec(*THETA0), vec(*GRADS[0]), State(3, buffers), 0.1, np.array([1, 0], bool)
    )
    for buffer in result.state.buffers.values():
        assert buffer[1] == 7.0
        assert buffer[0] != 0.3  # the trainable entry did move on
    assert result.theta[1] == -2.0


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("mask", [(True, True), (True, False)])
def test_inputs_are_never_modified(name: str, mask: tuple[bool, bool]) -> None:
    first = run(name, {"weight_decay": 0.1}, steps=1)[0]
    theta, grad, trainable = first.theta, vec(*GRADS[1]), np.array(mask)
    state = first.state
    before = (theta.copy(), grad.copy(), trainable.copy(), dict(state.buffers))
    saved = {k: b.copy() for k, b in state.buffers.items()}
    result = step(name, theta, grad, state, 0.1, trainable, {"weight_decay": 0.1})
    np.testing.assert_array_equal(theta, before[0])
    np.testing.assert_array_equal(grad, before[1])
    np.testing.assert_array_equal(trainable, before[2])
    assert state.step == 1 and dict(state.buffers) == before[3]  # same arrays, same keys
    for key, buffer in state.buffers.items():
        np.testing.assert_array_equal(buffer, saved[key])
    inputs = [theta, grad, *state.buffers.values()]
    outputs = [result.theta, *result.state.buffers.values(), *result.report.values()]
    for out in outputs:
        assert not any(np.shares_memory(out, given) for given in inputs)


def test_first_momentum_buffer_is_not_the_gradient_array() -> None:
    grad = vec(*GRADS[0])
    result = step("momentum", vec(*THETA0), grad, initial_state(), 0.1, np.ones(2, bool))
    assert not np.shares_memory(result.state.buffers["velocity"], grad)


# --- classic momentum and torch's form ----------------------------------------------------------


@pytest.mark.parametrize("hyper", [{}, {"weight_decay": 0.1}, {"momentum": 0.5}])
def test_classic_momentum_is_torch_momentum_with_v_equal_to_minus_lr_b(
    hyper: dict[str, float],
) -> None:
    # torch: b ← μb + g, θ ← θ − ηb.  classic: v ← μv − ηg, θ ← θ + v.  With v = −ηb both
    # recurrences coincide, so with a constant η the θ sequences agree.
    for torch_form, classic in zip(
        run("momentum", hyper), run("momentum_classic", hyper), strict=True
    ):
        close(classic.theta, torch_form.theta)
        close(classic.state.buffers["velocity"], -0.1 * torch_form.state.buffers["velocity"])


# --- bad input ----------------------------------------------------------------------------------


def test_unknown_optimizer_names_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'adamw'"):
        optim.get("adamww")


def test_unknown_hyperparameter_names_the_closest() -> None:
    with pytest.raises(ValueError, match="did you mean 'beta1'"):
        optim.hyperparameters(OPTIMIZERS["adam"], {"beta_1": 0.8})
    with pytest.raises(ValueError, match="no hyper-parameter 'dampening'"):
        optim.hyperparameters(OPTIMIZERS["nesterov"], {"dampening": 0.1})


@pytest.mark.parametrize(
    ("name", "hyper"),
    [
        ("nesterov", {"momentum": 0.0}),
        ("momentum", {"momentum": -0.1}),
        ("adam", {"beta1": 1.0}),
        ("adam", {"beta2": -0.5}),
        ("adamw", {"eps": float("nan")}),
        ("rmsprop", {"alpha": 1.5}),
        ("sgd", {"weight_decay": -1.0}),
        ("momentum", {"dampening": 2.0}),
    ],
)
def test_out_of_range_hyperparameters_are_refused(name: str, hyper: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        optim.hyperparameters(OPTIMIZERS[name], hyper)


def test_in_range_edges_are_accepted() -> None:
    assert optim.hyperparameters(OPTIMIZERS["momentum"], {"momentum": 0.0})["momentum"] == 0.0
    assert optim.hyperparameters(OPTIMIZERS["rmsprop"], {"alpha": 1.0})["alpha"] == 1.0
    assert optim.hyperparameters(OPTIMIZERS["adam"], {"beta1": 0.0})["beta1"] == 0.0


def test_bad_learning_rate_shapes_and_buffers_are_refused() -> None:
    ones = np.ones(2, bool)
    theta, grad = vec(*THETA0), vec(*GRADS[0])
    with pytest.raises(ValueError, match="learning rate"):
        step("sgd", theta, grad, initial_state(), -0.1, ones)
    with pytest.raises(ValueError, match="shape"):
        step("sgd", theta, vec(1, 2, 3), initial_state(), 0.1, ones)
    with pytest.raises(ValueError, match="keeps no buffer 'velocity'"):
        step("adam", theta, grad, State(1, {"velocity": vec(0, 0)}), 0.1, ones)
    with pytest.raises(ValueError, match="buffer 'exp_avg' has shape"):
        step("adam", theta, grad, State(1, {"exp_avg": vec(0, 0, 0)}), 0.1, ones)
