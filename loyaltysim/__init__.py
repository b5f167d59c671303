"""loyaltysim: agent-based simulation of discount and loyalty programs."""
