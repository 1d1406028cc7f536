// Placeholder: the console firmware (an rpmsg-tty shell) lands with its helper's work.
import AmpRemote
