/// A strong optional reference kept together with an unretained copy of it, for code that runs per message or
/// per spin iteration: going through the copy costs no reference counting (a retain and a release are two
/// atomic operations each time), and it is valid exactly as long as this value holds the object.
///
/// Only for state of one thread (the message loop's), where nothing replaces the object while a use of the
/// copy is under way.
struct HotReference<Object: AnyObject> {
    /// The object, held strongly.
    private(set) var object: Object?
    /// The same object, unretained (nil when ``object`` is).
    private(set) var unretained: Unmanaged<Object>?

    init(_ object: Object? = nil) {
        self.object = object
        unretained = object.map { .passUnretained($0) }
    }

    /// Replaces the object (and its unretained copy).
    mutating func set(_ newObject: Object?) {
        object = newObject
        unretained = newObject.map { .passUnretained($0) }
    }
}
