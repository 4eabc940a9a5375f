//! gardner facade
