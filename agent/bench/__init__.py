"""pass@k benchmark runs (`leanloop bench`)."""
