# Same mixture; the reference process (sigma 0.8, T 1) with three discretisations and with/without final noise.
import numpy as np, sys
from mixture_prior import D, M, report, score
def grid(kind, N, vT=0.64, tmin=1e-3, rho=7.0):
    if kind == 'uniform': return np.linspace(1, 0, N + 1)
    smax, smin = np.sqrt(vT), np.sqrt(vT * tmin)
    if kind == 'geometric': s_ = np.exp(np.linspace(np.log(smax), np.log(smin), N))
    else: s_ = (smax ** (1 / rho) + np.linspace(0, 1, N) * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    return np.append(s_ ** 2 / vT, 0.0)         # t with v(t) = 0.64 t
def run(kind, N, final_noise, method='em', n=500, seed=1):
    g = np.random.default_rng(seed)
    loc, scale = M.mean(0), np.sqrt(M.var(0) + 0.64)
    y = loc + scale * g.standard_normal((n, D)); ts = grid(kind, N)
    for i in range(N):
        t, tn = ts[i], ts[i + 1]; dt = t - tn
        if method == 'em':
            y = y + dt * 0.64 * score(y, 0.64 * t)
            if final_noise or i < N - 1: y = y + np.sqrt(dt * 0.64) * g.standard_normal(y.shape)
        else:
            d1 = -0.32 * score(y, 0.64 * t); ye = y - dt * d1
            y = y - dt / 2 * (d1 - 0.32 * score(ye, 0.64 * tn)) if tn > 0 else ye
    return y
for kind in ['uniform', 'geometric', 'karras']:
    for method, fn in [('em', True), ('em', False), ('ode', None)]:
        for N in [10, 20, 50]:
            print(f"{kind:9} {method}{'' if fn is None else (' +final-noise' if fn else ' no-final-noise'):15} N {N:3}: {report(run(kind, N, fn, method))}", flush=True)
