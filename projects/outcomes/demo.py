def load_demo_outcomes(_sender=None) -> str:
    return ""
