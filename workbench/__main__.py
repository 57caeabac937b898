from workbench.cli import main
from workbench.process_exit import exit_now

exit_now(main())
