package gcp

import "context"

// CreateBucket creates the bucket name in the project of Options.Project,
// with the service's defaults (location US, standard storage class). It is
// a call of the storage client, not of a blob.Bucket: its errors are the
// client's own, not *blob.Error. A bucket that exists already is a
// *googleapi.Error with code 409 (which a bucket's errors would classify as
// blob.ErrPreconditionFailed); a bad name is a 400; an empty project is
// refused by GCS (emulators accept it).
func (c *Client) CreateBucket(ctx context.Context, name string) error {
	return c.sc.Bucket(name).Create(ctx, c.opts.Project, nil)
}

// DeleteBucket deletes the empty bucket name. Its errors are the storage
// client's own, not *blob.Error: a bucket that does not exist is a
// *googleapi.Error with code 404, one that holds objects a 409.
func (c *Client) DeleteBucket(ctx context.Context, name string) error {
	return c.sc.Bucket(name).Delete(ctx)
}
