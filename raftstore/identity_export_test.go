package raftstore

// RootBootstrapDoneForTest reports whether the node has finished with the
// root user: it exists (and was announced or checked), or the node has no
// part in creating it.
func (n *Node) RootBootstrapDoneForTest() bool { return n.root.done.Load() }
