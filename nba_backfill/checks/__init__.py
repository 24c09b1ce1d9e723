"""Asset checks, one module per layer (each exports `checks`)."""
