//! Read-only properties that say so.
//!
//! zbus answers `Properties.Set` on a property that has only a getter with
//! `org.freedesktop.DBus.Error.UnknownProperty`, as if the property did not
//! exist. The D-Bus specification, systemd and Gio answer `PropertyReadOnly`,
//! and clients tell the two apart (a Gio client reports "no such property"
//! for a typo, "read-only" for a property it may only read). zbus has no
//! switch for it, so this wrapper implements zbus's `Interface` by handing
//! every call to the interface the `#[interface]` macro generated, except a
//! `Set` of one of the listed properties, which it refuses itself.
//!
//! zbus marks `Interface` as an API that may change in a minor release:
//! Cargo.lock pins zbus, and `tests/it/dbus.rs` checks the error name, so
//! an upgrade that breaks this is caught.

use std::collections::HashMap;
use std::fmt::Write;

use zbus::message::{Header, Message};
use zbus::names::{InterfaceName, MemberName};
use zbus::object_server::{DispatchResult2, Interface, SignalEmitter};
use zbus::zvariant::{OwnedValue, Value};
use zbus::{fdo, Connection, ObjectServer};

/// `T` with its properties `names` refused as read-only on `Set`.
pub struct ReadOnly<T> {
    pub inner: T,
    pub names: &'static [&'static str],
}

#[async_trait::async_trait]
impl<T: Interface> Interface for ReadOnly<T> {
    fn name() -> InterfaceName<'static> {
        T::name()
    }

    fn spawn_tasks_for_methods(&self) -> bool {
        self.inner.spawn_tasks_for_methods()
    }

    async fn get(
        &self,
        property_name: &str,
        server: &ObjectServer,
        connection: &Connection,
        header: Option<&Header<'_>>,
        emitter: &SignalEmitter<'_>,
    ) -> Option<fdo::Result<OwnedValue>> {
        self.inner
            .get(property_name, server, connection, header, emitter)
            .await
    }

    async fn get_all(
        &self,
        server: &ObjectServer,
        connection: &Connection,
        header: Option<&Header<'_>>,
        emitter: &SignalEmitter<'_>,
    ) -> fdo::Result<HashMap<String, OwnedValue>> {
        self.inner
            .get_all(server, connection, header, emitter)
            .await
    }

    fn set<'call>(
        &'call self,
        property_name: &'call str,
        value: &'call Value<'_>,
        server: &'call ObjectServer,
        connection: &'call Connection,
        header: Option<&'call Header<'_>>,
        emitter: &'call SignalEmitter<'_>,
    ) -> DispatchResult2<'call> {
        if self.names.contains(&property_name) {
            let text = format!("Property '{property_name}' is read-only");
            return DispatchResult2::Async(Box::pin(async move {
                Err(fdo::Error::PropertyReadOnly(text))
            }));
        }
        self.inner
            .set(property_name, value, server, connection, header, emitter)
    }

    async fn set_mut(
        &mut self,
        property_name: &str,
        value: &Value<'_>,
        server: &ObjectServer,
        connection: &Connection,
        header: Option<&Header<'_>>,
        emitter: &SignalEmitter<'_>,
    ) -> Option<fdo::Result<()>> {
        self.inner
            .set_mut(property_name, value, server, connection, header, emitter)
            .await
    }

    fn call<'call>(
        &'call self,
        server: &'call ObjectServer,
        connection: &'call Connection,
        msg: &'call Message,
        name: MemberName<'call>,
    ) -> DispatchResult2<'call> {
        self.inner.call(server, connection, msg, name)
    }

    fn call_mut<'call>(
        &'call mut self,
        server: &'call ObjectServer,
        connection: &'call Connection,
        msg: &'call Message,
        name: MemberName<'call>,
    ) -> DispatchResult2<'call> {
        self.inner.call_mut(server, connection, msg, name)
    }

    fn introspect_to_writer(&self, writer: &mut dyn Write, level: usize) {
        self.inner.introspect_to_writer(writer, level)
    }
}
