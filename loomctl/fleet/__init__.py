"""Many LoomDB deployments at once: found through Azure Resource Graph, judged and compared (`loomctl fleet`)."""
