"""The incident graph: state, routers, nodes and the builder that wires them."""
