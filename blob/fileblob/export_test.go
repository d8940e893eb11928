package fileblob

// SetCommitHook sets the function a commit runs between its precondition
// check and its renames.
func SetCommitHook(f func()) { commitHook = f }
