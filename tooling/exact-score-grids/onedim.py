import numpy as np
w=np.array([.5,.5]); m=np.array([.1,.6]); s=np.array([.05,.08])
def score(y, v):  # log-space stein score of mixture convolved with N(0, v)
    var = s**2 + v
    lp = -0.5*(y[:,None]-m)**2/var - 0.5*np.log(var) + np.log(w)
    lp -= lp.max(1, keepdims=True); r = np.exp(lp); r /= r.sum(1, keepdims=True)
    return (r * (m - y[:,None]) / var).sum(1)
def grid(kind, N, tmin=1e-3, rho=7.):
    if kind=='uniform': return np.linspace(1,0,N+1)
    smax, smin = .8, .8*np.sqrt(tmin)
    sg = (smax**(1/rho) + np.linspace(0,1,N)*(smin**(1/rho)-smax**(1/rho)))**rho
    return np.append(sg**2/.64, 0)
def run(kind, N, denoise, method='dl', n=200000, seed=0):
    g = np.random.default_rng(seed)
    comp = g.random(n) < .5
    y = np.where(comp, .1 + .05*g.standard_normal(n), .6+.08*g.standard_normal(n)) + .8*g.standard_normal(n)  # exact p_T
    ts = grid(kind, N)
    for i in range(N):
        t, tn = ts[i], ts[i+1]; dt = t - tn
        if method=='dl':
            y = y + dt*.64*score(y, .64*t)
            if not (denoise and i==N-1): y += np.sqrt(.64*dt)*g.standard_normal(n)
        else:
            d1 = -.32*score(y,.64*t); ye = y - dt*d1
            y = y - dt/2*(d1 - .32*score(ye,.64*tn)) if tn>0 else ye
    return y.mean(), y.std(), (y<.35).mean()
for meth in ['dl','ode']:
  for kind in ['uniform','karras']:
    for dn in ([False, True] if meth=='dl' else [None]):
        for N in [5,10,20,100]:
            print(meth, kind, dn, N, "mean %.4f std %.4f P %.4f" % run(kind,N,dn,meth))
