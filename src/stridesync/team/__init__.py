"""Team mode: hubs publish athletes on Lab Streaming Layer; the squad view follows them all."""
