/// Tells objects that reach a device unretained (its endpoints) whether it still exists: the device clears
/// it when it is deinitialized, so a late use traps with a message instead of touching freed memory.
final class DeviceLifetime {
    @exclusivity(unchecked) var isAlive = true
}
