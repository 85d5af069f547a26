//! One module per page.

pub mod account;
pub mod form;
pub mod hello;
pub mod home;
pub mod inspector;
pub mod lab;
pub mod login;
pub mod notes;
pub mod register;
