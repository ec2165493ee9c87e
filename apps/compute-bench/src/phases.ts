// The phases the compute benchmark times, shared by the tfjs side (bench.ts) and the PyTorch side (torch.ts).
/** What is timed: one Adam step on the MSE (forward, backward, update), or the forward pass alone. */
export const PHASES = ["train", "forward"] as const;
export type Phase = (typeof PHASES)[number];
