package azure

import (
	"context"
)

// CreateContainer creates the container name in c's account, private (no
// public access). It is a call of the azblob client, not of a blob.Bucket:
// its errors are the SDK's own, not *blob.Error. A container that exists
// already is an *azcore.ResponseError with status 409 and ErrorCode
// "ContainerAlreadyExists" (which a bucket's errors would classify as
// blob.ErrPreconditionFailed); a name the service refuses is a 400
// "InvalidResourceName".
func (c *Client) CreateContainer(ctx context.Context, name string) error {
	_, err := c.sc.CreateContainer(ctx, name, nil)
	return err
}

// DeleteContainer deletes the container name and every blob in it (the
// service removes them in the background; the name may not be reused for
// about 30 seconds, "ContainerBeingDeleted"). Its errors are the SDK's own,
// not *blob.Error: a container that does not exist is an
// *azcore.ResponseError with status 404 and ErrorCode "ContainerNotFound".
func (c *Client) DeleteContainer(ctx context.Context, name string) error {
	_, err := c.sc.DeleteContainer(ctx, name, nil)
	return err
}
