"""Files: atomic writes, `.keras` networks that Keras alone loads, and PNG figures."""
